/**
 * Who holds which pair. Creation is create-if-absent, which is what makes a claim a
 * lock (invariant 2); EC2's own VolumeInUse is the last line behind it. Every
 * operation is safe to repeat after a crash.
 */
import type { Claim } from '../domain/pairs.ts';
import { compareCodeUnits } from '../domain/text-order.ts';

export interface ClaimStore {
  /** Creates the claim unless one exists for (group, nodeId). Returns whether it created it. */
  create(claim: Claim): Promise<boolean>;
  get(group: string, nodeId: string): Promise<Claim | undefined>;
  /** Every claim, or every claim of one group, in (group, nodeId) order. */
  list(group?: string): Promise<Claim[]>;
  /**
   * Deletes the claim only if it is still this one: the same instance and the same
   * `since` (the moment it was made), so a stale release never deletes a claim made
   * again after it, for another instance or for the same one. Returns whether it deleted it.
   */
  release(claim: ClaimIdentity): Promise<boolean>;
}

/** What tells one claim from any other ever made on the same pair. */
export type ClaimIdentity = Pick<Claim, 'group' | 'nodeId' | 'instanceId' | 'since'>;

export function isSameClaim(stored: Claim | undefined, claim: ClaimIdentity): boolean {
  return stored?.instanceId === claim.instanceId && stored.since === claim.since;
}

/** (group, nodeId) order by code unit: the same in every store, whatever the locale. */
export function compareClaims(a: Claim, b: Claim): number {
  return compareCodeUnits(a.group, b.group) || compareCodeUnits(a.nodeId, b.nodeId);
}

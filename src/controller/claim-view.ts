/**
 * What this replica knows of each group's claims without listing them: the last list
 * resync made, plus what this replica's own work has learned since (claims it created
 * or read, claims it released). The launch path chooses free pairs from it instead of
 * listing (with the SSM store a list is several GetParametersByPath per launch, from a
 * 40/s bucket the whole account shares). A stale view only costs a create that answers
 * "already exists"; the create-if-absent claim stays the lock (invariant 2).
 */
import type { ClaimStore } from '../claims/claim-store.ts';
import type { Claim } from '../domain/pairs.ts';
import { SharedRead } from './shared-read.ts';

/** A change learned by this replica's own work, replayed over a list that started before it. */
interface Learned {
  at: number;
  nodeId: string;
  claim: Claim | undefined;
}

export class ClaimView {
  private readonly store: ClaimStore;
  private readonly groups = new Map<string, Map<string, Claim>>();
  private readonly learned = new Map<string, Learned[]>();
  /** Claims this process created (or resumed) and has not released: a failed create naming one of them is its own, not a rival's. */
  private readonly own = new Map<string, string>();
  private readonly firstLists = new SharedRead<Claim[]>();
  /** Creates in flight: this replica's other launches skip those pairs instead of racing itself for them. */
  private readonly creating = new Set<string>();

  constructor(store: ClaimStore) {
    this.store = store;
  }

  /** The group's claims as this replica last knew them; lists once only if resync has not listed the group yet. */
  async claims(group: string): Promise<Claim[]> {
    if (!this.groups.has(group)) {
      const startedAt = performance.now();
      const listed = await this.firstLists.get(group, Infinity, () => this.store.list(group));
      if (!this.groups.has(group)) this.replace(group, listed, startedAt);
    }
    return [...this.groups.get(group)!.values()];
  }

  /**
   * Resync's list, started at `startedAt`: it replaces the view, and what this replica
   * learned after the list started is applied again (the list may predate it).
   */
  replace(group: string, listed: Claim[], startedAt: number): void {
    const claims = new Map(listed.map((c) => [c.nodeId, c]));
    const since = (this.learned.get(group) ?? []).filter((l) => l.at >= startedAt);
    for (const l of since) {
      if (l.claim) claims.set(l.nodeId, l.claim);
      else claims.delete(l.nodeId);
    }
    this.groups.set(group, claims);
    this.learned.set(group, since);
  }

  /** A claim this replica created or found (`mine`: created or resumed by this process). */
  saw(claim: Claim, options: { mine: boolean }): void {
    this.note(claim.group, claim.nodeId, claim);
    if (options.mine) this.own.set(keyOf(claim.group, claim.nodeId), claim.instanceId);
  }

  /** A claim released, or found absent. */
  gone(group: string, nodeId: string): void {
    this.own.delete(keyOf(group, nodeId));
    this.note(group, nodeId, undefined);
  }

  /** Claimed as far as this replica knows, or being claimed by it right now. */
  isTaken(group: string, nodeId: string): boolean {
    return this.creating.has(keyOf(group, nodeId)) || this.groups.get(group)?.has(nodeId) === true;
  }

  /** Runs a create of (group, nodeId), the pair marked taken meanwhile. */
  async creatingClaim<T>(group: string, nodeId: string, create: () => Promise<T>): Promise<T> {
    const key = keyOf(group, nodeId);
    this.creating.add(key);
    try {
      return await create();
    } finally {
      this.creating.delete(key);
    }
  }

  isMine(claim: Claim): boolean {
    return this.own.get(keyOf(claim.group, claim.nodeId)) === claim.instanceId;
  }

  private note(group: string, nodeId: string, claim: Claim | undefined): void {
    const view = this.groups.get(group);
    if (view) {
      if (claim) view.set(nodeId, claim);
      else view.delete(nodeId);
    }
    const log = this.learned.get(group) ?? [];
    log.push({ at: performance.now(), nodeId, claim });
    this.learned.set(group, log);
  }
}

/** Unambiguous for any names. */
function keyOf(group: string, nodeId: string): string {
  return JSON.stringify([group, nodeId]);
}

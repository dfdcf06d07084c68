/**
 * The one definition of "attached" and of "gone". Every route, the resync plan,
 * the facts and the pairing path ask these functions, so they cannot disagree about
 * whether a node holds its pair.
 */
import type { Attachment, Claim, Pair } from './pairs.ts';

/** EC2 says the instance is going or gone. Anything else, "not found" included, is not gone. */
const GONE_STATES: ReadonlySet<string> = new Set(['shutting-down', 'terminated']);
/** States in which an instance cannot take an attachment. */
const NOT_ATTACHABLE: ReadonlySet<string> = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

export function isGoneState(state: string): boolean {
  return GONE_STATES.has(state);
}

export function canTakeAttachments(state: string): boolean {
  return !NOT_ATTACHABLE.has(state);
}

/** Attached (not attaching) to this instance. */
export function isAttachedTo(attachment: Pick<Attachment, 'instanceId' | 'state'> | undefined, instanceId: string): boolean {
  return attachment?.instanceId === instanceId && attachment.state === 'attached';
}

/** Volume and ENI both attached (not attaching) to the instance. */
export function isWholeOn(pair: Pick<Pair, 'volume' | 'eni'>, instanceId: string): boolean {
  return isAttachedTo(pair.volume?.attachment, instanceId) && isAttachedTo(pair.eni?.attachment, instanceId);
}

/** A node holds its pair: a usable pair, its claim says attached, and EC2 agrees that both parts are on the claimant. */
export function holdsPair(pair: Pair, claim: Claim | undefined): claim is Claim {
  return pair.condition === 'usable' && claim?.state === 'attached' && claim.nodeId === pair.nodeId && isWholeOn(pair, claim.instanceId);
}

/** Instances holding either part of the pair. */
export function holdersOf(pair: Pick<Pair, 'volume' | 'eni'>): string[] {
  return [pair.volume?.attachment?.instanceId, pair.eni?.attachment?.instanceId].filter((id): id is string => id !== undefined);
}

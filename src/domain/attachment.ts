/**
 * The one definition of "attached" and of "gone". Every route, the resync plan,
 * the facts and the pairing path ask these functions, so they cannot disagree about
 * whether a node holds its pair.
 */
import { HOLDER_TAG, PREPARED_TAG, type Attachment, type Claim, type Pair } from './pairs.ts';

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

/**
 * A node holds its pair: a usable pair, claimed, and EC2 says both parts are attached
 * to the claimant. EC2 alone says "attached": the claim is not written again once the
 * pair is whole (a claim's own `state`, kept by older versions, is not read).
 */
export function holdsPair(pair: Pair, claim: Claim | undefined): claim is Claim {
  return pair.condition === 'usable' && claim !== undefined && claim.nodeId === pair.nodeId && isWholeOn(pair, claim.instanceId);
}

/**
 * Every step of pairing done for the claimant: the pair whole on it, the attachment announced (the holder tag is written once the
 * `pair.attached` notification has been delivered or given up), and the volume
 * prepared on it when the group prepares volumes. Anything less is work for resync.
 */
export function isPairFinished(pair: Pair, claim: Claim | undefined, prepares: boolean): boolean {
  if (!holdsPair(pair, claim)) return false;
  const { volume, eni } = pair;
  return isAnnounced(pair, claim.instanceId) && (!prepares || volume?.tags[PREPARED_TAG] === claim.instanceId) && eni !== undefined;
}

/** The holder tag names the instance on both parts: written only after the attachment was announced. */
export function isAnnounced(pair: Pick<Pair, 'volume' | 'eni'>, instanceId: string): boolean {
  return pair.volume?.tags[HOLDER_TAG] === instanceId && pair.eni?.tags[HOLDER_TAG] === instanceId;
}

/**
 * The instance a pair's holder tag still names though it holds no part of the pair and
 * not its claim (`claimant`: who holds the claim): its release was not told yet. The tag
 * is removed once `pair.released` was delivered, which records the release as told.
 */
export function untoldReleaseOf(pair: Pick<Pair, 'volume' | 'eni'>, claimant: string | undefined): string | undefined {
  const named = pair.volume?.tags[HOLDER_TAG] ?? pair.eni?.tags[HOLDER_TAG];
  return named === undefined || named === claimant || holdersOf(pair).includes(named) ? undefined : named;
}

/** Instances holding either part of the pair. */
export function holdersOf(pair: Pick<Pair, 'volume' | 'eni'>): string[] {
  return [pair.volume?.attachment?.instanceId, pair.eni?.attachment?.instanceId].filter((id): id is string => id !== undefined);
}

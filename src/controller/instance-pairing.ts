/**
 * Launch, terminate and adopt for one instance, level-based: each step re-reads
 * what EC2 says and does only what is missing, so a duplicate, a retry or a restart
 * in the middle converges instead of doing things twice. The volume is always
 * attached before the ENI (invariant 1), a volume is never detached and nothing is
 * deleted (invariant 3), and the only detach is of an ENI whose instance EC2 says
 * is going away.
 */
import type { Logger } from 'pino';
import type { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import { isSameClaim, type ClaimStore } from '../claims/claim-store.ts';
import type { GroupConfig } from '../config/schema.ts';
import { canTakeAttachments, holdersOf, isAnnounced, isAttachedTo, isGoneState, isWholeOn, untoldReleaseOf } from '../domain/attachment.ts';
import { isPairableState } from '../domain/group-members.ts';
import { eniHolders, freePairs } from '../domain/inventory.ts';
import { HOLDER_TAG, PREPARED_TAG, type Attachment, type Claim, type EniInfo, type InstanceInfo, type Pair, type VolumeInfo } from '../domain/pairs.ts';
import { PairkeeperError } from '../errors.ts';
import { notifyEvent, type NotifyEvent } from '../domain/notify-event.ts';
import { pollUntil } from '../poll.ts';
import { pairOrder } from '../domain/replica-owner.ts';
import type { VolumePreparer } from '../volume-prep/volume-preparer.ts';
import type { ClaimView } from './claim-view.ts';
import type { InstanceRegistry } from './instance-registry.ts';
import type { InventoryCache } from './inventory-cache.ts';

/** paired: this launch attached something; unchanged: the pair was already whole (a duplicate, a resync). */
type Attached = 'paired' | 'unchanged';

/** Auto Scaling says the instance should not take a pair: on its way out ('gone'), or not a member ('refused'). */
interface TurnedAway {
  outcome: 'gone' | 'refused';
  reason: string;
}

export type LaunchOutcome =
  | { outcome: Attached }
  | { outcome: 'gone'; reason?: string }
  /** Not a member of the group: nothing of ours to do. */
  | { outcome: 'refused'; reason: string }
  /** Holds parts of pairs it has no claim on: reported, left alone, and a hook gets the no-pair result. */
  | { outcome: 'holds-others'; reason: string }
  /** Another replica claimed a pair for this instance (the same message reached both): it finishes, and its resync if it crashes. */
  | { outcome: 'elsewhere'; reason: string }
  | { outcome: 'waiting'; reason: string };

/**
 * The steps of launch, adopt and release, in order. A crash after any of them leaves
 * a state resync finishes: the claim, the attachments and the tags are all in EC2
 * and the claim store, never only in memory.
 */
export const PAIRING_STEPS = [
  'claim-created',
  'volume-attached',
  'eni-attached',
  'prepared',
  'announced',
  'holder-tagged',
  'hook-completed',
  'claim-adopted',
  'eni-detached',
  'volume-freed',
  'claim-released',
  'untagged',
] as const;
export type PairingStep = (typeof PAIRING_STEPS)[number];

/**
 * This pair cannot be had right now; try the next one. `deviceTaken`: the instance
 * already has a volume at the group's device, most likely its pair from another
 * replica that claimed at the same moment, so trying more pairs would not help.
 */
class PairUnavailable extends Error {
  readonly deviceTaken: boolean;
  constructor(message: string, options: { deviceTaken?: boolean } = {}) {
    super(message);
    this.deviceTaken = options.deviceTaken ?? false;
  }
}

/** A claim of another replica names this instance: step back, before any EC2 mutating call. */
type SteppedBack = { elsewhere: string };

export interface InstancePairingDeps {
  ec2: Ec2Gateway;
  /** Asked right before a claim: only a member in a pairable lifecycle state takes a pair. */
  autoScaling: Pick<AutoScalingGateway, 'instances'>;
  claims: ClaimStore;
  /** The claims as this replica knows them (resync's list and what its own work learned): the launch path never lists. */
  claimView: ClaimView;
  inventory: InventoryCache;
  registry: InstanceRegistry;
  logger: Logger;
  pollIntervalMs: number;
  attachTimeoutMs: number;
  /** Called when a pair is released, with its group and AZ, so waiting instances get another try. */
  onRelease: (group: string, availabilityZone: string) => void;
  /** Called when a pair is whole on its instance, with how long attaching took. */
  onAttached?: (group: string, seconds: number) => void;
  /**
   * Told of pairs attached and released and of instances starting to wait (at least
   * once each); resolves once the event has been delivered (or given up on).
   */
  notify?: (event: NotifyEvent) => Promise<void>;
  /** Told as each step is done, with the instance and NodeID (what a crash-point test stops at). */
  onStep?: (step: PairingStep, ids: { instanceId: string; nodeId: string }) => void;
  /** Prepares volumes of groups with `prepare`. */
  preparer?: VolumePreparer;
  /** How many replicas share the claim store (config `replicas.count`): it decides the order pairs are tried in. */
  replicaCount: number;
}

export class InstancePairing {
  private readonly deps: InstancePairingDeps;
  /** Announcements told and not yet recorded (by group, NodeID and instance); withdrawn once the pair is being released. */
  private readonly announcing = new Map<string, { withdrawn: boolean }>();
  /** Releases being told (by group, NodeID and instance), until their holder tag is removed. */
  private readonly releasing = new Set<string>();
  /** Holder-tag writes of announcements told, in flight. */
  private readonly recording = new Set<Promise<void>>();

  constructor(deps: InstancePairingDeps) {
    this.deps = deps;
  }

  async launch(group: GroupConfig, instanceId: string): Promise<LaunchOutcome> {
    const { registry } = this.deps;
    const log = this.deps.logger.child({ instanceId, group: group.name });
    const instance = await this.runningInstance(instanceId);
    if (!instance) {
      registry.set(instanceId, group.name, { status: 'gone', reason: 'instance is gone or going' });
      log.info('launch: instance is gone or going; nothing to do');
      return { outcome: 'gone' };
    }
    if (instance.autoScalingGroup !== group.name) {
      // A message only triggers (invariant 7): Auto Scaling's own tag says who launched the instance.
      const reason = `${instanceId} is not a member of ${group.name} (launched by ${instance.autoScalingGroup ?? 'no Auto Scaling group'})`;
      registry.set(instanceId, group.name, { status: 'refused', reason });
      log.warn({ launchedBy: instance.autoScalingGroup }, 'launch refused: the instance is not a member of the group');
      return { outcome: 'refused', reason };
    }
    const az = instance.availabilityZone;
    const wasWaiting = registry.get(instanceId)?.status === 'waiting';
    registry.set(instanceId, group.name, { status: 'pairing', availabilityZone: az });

    // The shared inventory may be a moment old: before saying "no pair", look once more with fresh reads.
    for (const fresh of [false, true]) {
      const done = await this.tryPairs(group, instance, fresh, log);
      if (done === 'holds-others') {
        const reason = `${instanceId} already holds parts of pairs it has no claim on (see resync problems)`;
        registry.set(instanceId, group.name, { status: 'refused', availabilityZone: az, reason });
        return { outcome: done, reason };
      }
      if (typeof done === 'object') {
        if ('elsewhere' in done) {
          registry.set(instanceId, group.name, { status: 'elsewhere', availabilityZone: az, reason: done.elsewhere });
          log.info({ reason: done.elsewhere }, 'another replica is pairing the instance; leaving it the work');
          return { outcome: 'elsewhere', reason: done.elsewhere };
        }
        registry.set(instanceId, group.name, { status: done.outcome, availabilityZone: az, reason: done.reason });
        log.warn({ reason: done.reason }, 'launch: Auto Scaling says the instance takes no pair; nothing claimed');
        return done;
      }
      if (done) return { outcome: done };
    }
    return { outcome: 'waiting', reason: this.waits(group, instanceId, az, wasWaiting) };
  }

  /**
   * Whether the store (listed anew: this is about to abandon a launch) holds a claim for
   * the instance that this replica did not see; then it is recorded as another replica's work.
   */
  async claimedElsewhere(group: GroupConfig, instanceId: string): Promise<boolean> {
    const claim = (await this.deps.claims.list(group.name)).find((c) => c.instanceId === instanceId);
    if (!claim) return false;
    this.deps.claimView.saw(claim, { mine: false });
    const reason = `another replica claimed ${claim.nodeId} for ${instanceId}`;
    this.deps.registry.set(instanceId, group.name, { status: 'elsewhere', nodeId: claim.nodeId, reason });
    this.deps.logger.info({ instanceId, group: group.name, nodeId: claim.nodeId }, 'no pair here, but another replica holds a claim for the instance: not abandoned; leaving it the work');
    return true;
  }

  /**
   * Whether the instance holds a pair whole (its owner among the replicas paired it),
   * from the shared inventory: then a takeover has nothing to do, and calls nothing.
   */
  async pairedByOwner(group: GroupConfig, instanceId: string): Promise<boolean> {
    const pair = (await this.deps.inventory.get(group)).find((p) => isWholeOn(p, instanceId));
    if (!pair) return false;
    this.deps.registry.set(instanceId, group.name, { status: 'paired', nodeId: pair.nodeId, availabilityZone: pair.availabilityZone, reason: 'paired by the replica that owns it' });
    return true;
  }

  /** Records that the instance waits for a pair in its AZ (resync found none to give it); a release wakes it. */
  waitForPair(group: GroupConfig, instanceId: string, availabilityZone: string): void {
    this.waits(group, instanceId, availabilityZone, this.deps.registry.get(instanceId)?.status === 'waiting');
  }

  private waits(group: GroupConfig, instanceId: string, az: string, wasWaiting: boolean): string {
    const reason = `no free pair in ${az}`;
    this.deps.registry.set(instanceId, group.name, { status: 'waiting', availabilityZone: az, reason });
    if (wasWaiting) return reason;
    this.deps.logger.warn({ instanceId, group: group.name, availabilityZone: az }, 'no free pair; the instance waits for one to be released');
    void this.deps.notify?.(notifyEvent('instance.waiting', { group: group.name, instanceId, availabilityZone: az, reason }));
    return reason;
  }

  /**
   * Records the claim of a pair whose volume is found on a member that has no claim
   * (a lost claim store, a crash between steps, a claim released by mistake). Checked
   * again on fresh reads first; the launch that follows finishes whatever is missing.
   */
  async adopt(group: GroupConfig, instanceId: string, nodeId: string): Promise<void> {
    const log = this.deps.logger.child({ instanceId, group: group.name, nodeId });
    const pair = (await this.deps.inventory.get(group, { maxAgeMs: 0 })).find((p) => p.nodeId === nodeId);
    const claims = await this.deps.claims.list(group.name);
    if (pair?.condition !== 'usable' || pair.volume?.attachment?.instanceId !== instanceId || claims.some((c) => c.instanceId === instanceId || c.nodeId === nodeId)) {
      log.info('adopt: no longer an unclaimed pair on this instance; nothing to do');
      return;
    }
    const whole = isWholeOn(pair, instanceId);
    const now = new Date().toISOString();
    const claim: Claim = { group: group.name, nodeId, instanceId, state: 'claimed', since: now, updatedAt: now };
    if (!(await this.deps.claims.create(claim))) {
      log.info('adopt: someone claimed the pair first');
      return;
    }
    this.deps.claimView.saw(claim, { mine: true });
    this.step('claim-adopted', instanceId, nodeId);
    log.warn({ whole }, 'adopted a pair found on the instance with no claim; the pair work that follows finishes it');
  }

  /**
   * Deletes a leftover claim of an instance that holds another pair whole, after
   * fresh reads agree: the instance still holds that other pair, and nothing of this
   * one. Nothing is detached; the pair becomes free for the instances that wait.
   */
  async dropLeftoverClaim(group: GroupConfig, instanceId: string, nodeId: string): Promise<void> {
    const log = this.deps.logger.child({ instanceId, group: group.name, nodeId });
    const pairs = await this.deps.inventory.get(group, { maxAgeMs: 0 });
    const claims = await this.deps.claims.list(group.name);
    const pair = pairs.find((p) => p.nodeId === nodeId);
    const holdsOther = pairs.some((p) => p.nodeId !== nodeId && claims.some((c) => c.nodeId === p.nodeId && c.instanceId === instanceId) && isWholeOn(p, instanceId));
    if (!holdsOther || (pair && holdersOf(pair).includes(instanceId))) {
      log.info('leftover claim: no longer a leftover on fresh reads; kept');
      return;
    }
    const leftover = claims.find((c) => c.nodeId === nodeId && c.instanceId === instanceId);
    if (leftover && (await this.release(leftover, pair?.availabilityZone))) log.warn('released a leftover claim of an instance that holds another pair');
  }

  /** One pass over the free pairs of the instance's AZ; false when none could be had. */
  private async tryPairs(group: GroupConfig, instance: InstanceInfo, fresh: boolean, log: Logger): Promise<Attached | 'holds-others' | SteppedBack | TurnedAway | undefined> {
    const { instanceId, availabilityZone: az } = instance;
    // Never a list here (lists belong to resync): the claims as this replica knows them. A stale
    // view only costs a create that answers "already exists", and that claim is then read.
    const claims = await this.deps.claimView.claims(group.name);
    // A second look shares only a read started a moment ago: the many launches that look again at once still share one.
    const pairs = await this.deps.inventory.get(group, fresh ? { maxAgeMs: 50 } : {});
    const held = claims.find((c) => c.instanceId === instanceId);
    if (held) {
      const resumed = await this.resumeOrDrop(group, pairs, held, instance, log);
      if (resumed) return resumed;
    }
    const onIt = pairs.filter((p) => holdersOf(p).includes(instanceId) && p.nodeId !== held?.nodeId);
    if (onIt.length > 0) {
      // A replica's attach in flight can show here before its claim does: only the fresh look decides.
      if (!fresh) return undefined;
      return this.alreadyHolds(group, pairs, onIt, instance, log);
    }

    // Only EC2 saying so makes a holder gone; one it cannot describe is unknown, and its ENI is left alone.
    const gone = new Set<string>();
    for (const holder of eniHolders(pairs, az)) {
      const state = (await this.deps.ec2.instances.read(holder))?.state;
      if (state !== undefined && isGoneState(state)) gone.add(holder);
    }
    const candidates = pairOrder(freePairs(pairs, claims, az, (id) => gone.has(id)), instanceId, this.deps.replicaCount);
    // A free pair is scarce: a member on its way out (or no member at all) must not take it from the launches that wait.
    const turnedAway = candidates.length > 0 ? await this.turnedAway(group, instanceId) : undefined;
    if (turnedAway) return turnedAway;
    for (const pair of candidates) {
      // What this replica learned while walking (its other launches' claims, claims it ran into) counts too.
      if (this.deps.claimView.isTaken(group.name, pair.nodeId)) continue;
      const done = await this.claimAndAttach(group, pairs, pair, instance, log);
      if (done) return done;
    }
    return undefined;
  }

  /**
   * Claims one free pair and attaches it; undefined when the claim was lost or the pair
   * turned out to be unavailable (then the next pair is tried).
   */
  private async claimAndAttach(group: GroupConfig, pairs: Pair[], pair: Pair, instance: InstanceInfo, log: Logger): Promise<Attached | SteppedBack | undefined> {
    const { instanceId } = instance;
    const { claimView } = this.deps;
    const now = new Date().toISOString();
    const claim: Claim = { group: group.name, nodeId: pair.nodeId, instanceId, state: 'claimed', since: now, updatedAt: now };
    if (!(await claimView.creatingClaim(group.name, pair.nodeId, () => this.deps.claims.create(claim)))) {
      // Whose is it? One read: another instance's sends us to the next pair; this instance's
      // (the same message reached another replica, which chose the same pair first) means the
      // work is taken care of, and this replica steps back before any EC2 mutating call.
      const holder = await this.deps.claims.get(group.name, pair.nodeId);
      if (!holder) {
        claimView.gone(group.name, pair.nodeId);
        return undefined;
      }
      claimView.saw(holder, { mine: false });
      if (holder.instanceId !== instanceId) return undefined;
      if (claimView.isMine(holder)) return this.resume(group, pairs, holder, instance, log);
      return { elsewhere: `another replica claimed ${pair.nodeId} for ${instanceId}` };
    }
    claimView.saw(claim, { mine: true });
    this.step('claim-created', instanceId, pair.nodeId);
    try {
      return await this.attach(group, pair, instance, log);
    } catch (err) {
      if (!(err instanceof PairUnavailable)) throw err;
      // While this claim stood, other launches passed the pair by: they look again.
      await this.release(claim, instance.availabilityZone);
      // Two replicas whose views differed claimed two pairs for one instance: EC2 refused the second volume at the device.
      if (err.deviceTaken) return { elsewhere: err.message };
      log.info({ nodeId: pair.nodeId, reason: err.message }, 'pair unavailable; trying the next');
      return undefined;
    }
  }

  /** A pair of the group is free again: the instances waiting in its AZ look anew (not at a read from before it was). */
  private freed(group: string, availabilityZone: string): void {
    this.deps.inventory.forget(group);
    this.deps.onRelease(group, availabilityZone);
  }

  /** The claim as the store has it now, if it is still this one; the view learns either way. */
  private async stillClaimed(claim: Claim): Promise<Claim | undefined> {
    const stored = await this.deps.claims.get(claim.group, claim.nodeId);
    if (stored) this.deps.claimView.saw(stored, { mine: false });
    else this.deps.claimView.gone(claim.group, claim.nodeId);
    return isSameClaim(stored, claim) ? stored : undefined;
  }

  /**
   * Releases this claim (not one made since), forgets it in the view, and tells the
   * launches waiting in the pair's AZ (when known) to look again.
   */
  private async release(claim: Claim, availabilityZone: string | undefined): Promise<boolean> {
    const released = await this.deps.claims.release(claim);
    this.deps.claimView.gone(claim.group, claim.nodeId);
    if (availabilityZone) this.freed(claim.group, availabilityZone);
    return released;
  }

  /**
   * Carries on with the pair the instance holds a claim on. A claim whose pair cannot be
   * had (a leftover of a replica race or a crash, its volume or device taken) is
   * released, and the free pairs are tried instead of retrying it for ever.
   */
  private async resumeOrDrop(group: GroupConfig, pairs: Pair[], held: Claim, instance: InstanceInfo, log: Logger): Promise<Attached | undefined> {
    try {
      return await this.resume(group, pairs, held, instance, log);
    } catch (err) {
      if (!(err instanceof PairUnavailable)) throw err;
      log.warn({ nodeId: held.nodeId, reason: err.message }, 'claimed pair unavailable; releasing the claim and trying the free pairs');
      // Its volume may have come free (its instance going: the launch was a late duplicate).
      await this.release(held, instance.availabilityZone);
      return undefined;
    }
  }

  /**
   * The instance already carries parts of pairs it has no claim on: a lost claim of its
   * own pair is adopted and finished; anything else (two pairs, another's pair, half a
   * split pair) is a person's to resolve, and one more pair would only make it worse.
   */
  private async alreadyHolds(group: GroupConfig, pairs: Pair[], onIt: Pair[], instance: InstanceInfo, log: Logger): Promise<Attached | 'holds-others'> {
    const { instanceId } = instance;
    const [only] = onIt;
    const candidate = onIt.length === 1 && only!.condition === 'usable' && only!.volume?.attachment?.instanceId === instanceId ? only : undefined;
    if (candidate) {
      // Claimed for this very instance after this replica's view was made (another replica's work, still attaching): finish it with it.
      const claim = (await this.deps.claims.get(group.name, candidate.nodeId)) ?? (await this.adopted(group, instanceId, candidate.nodeId));
      if (claim?.instanceId === instanceId) return this.resume(group, pairs, claim, instance, log);
    }
    log.warn({ nodeIds: onIt.map((p) => p.nodeId) }, 'the instance already holds parts of pairs it has no claim on; left alone for a person');
    return 'holds-others';
  }

  /** Adopts the pair on the instance, and reads back who holds its claim now. */
  private async adopted(group: GroupConfig, instanceId: string, nodeId: string): Promise<Claim | undefined> {
    await this.adopt(group, instanceId, nodeId);
    return this.deps.claims.get(group.name, nodeId);
  }

  /** Carries on with the pair the instance already holds. */
  private async resume(group: GroupConfig, pairs: Pair[], held: Claim, instance: InstanceInfo, log: Logger): Promise<Attached> {
    const pair = pairs.find((p) => p.nodeId === held.nodeId);
    if (!pair || pair.condition !== 'usable') throw new PairkeeperError('PK_PAIR_BROKEN', `claimed pair ${held.nodeId} is not usable any more`);
    this.deps.claimView.saw(held, { mine: true });
    return this.attach(group, pair, instance, log);
  }

  /**
   * Releases the instance's pair once it is gone. `departing`: Auto Scaling has been
   * told to terminate it (our terminating hook completed), so wait for EC2 to agree
   * rather than treating a still-running instance as a stale message. `takeover`: the
   * replica that owns the instance should have released it already; its claim is read
   * first, and only one still there is released (no list: resync finds what is left).
   */
  async terminate(group: GroupConfig, instanceId: string, options: { departing?: boolean; takeover?: boolean } = {}): Promise<void> {
    const { registry, ec2 } = this.deps;
    const log = this.deps.logger.child({ instanceId, group: group.name });
    const read = () => ec2.instances.read(instanceId);
    const instance = options.departing
      ? await pollUntil(read, (i) => !i || isGoneState(i.state), { ...this.waitOptions(), what: `${instanceId} to terminate` })
      : await read();
    if (instance && !isGoneState(instance.state)) {
      // Out of order or stale: the instance is alive, so its pair stays with it.
      log.warn({ state: instance.state }, 'terminate for an instance that is not terminating; ignored');
      return;
    }
    // The view first (resync's list and this replica's own work); a list only when it has not seen the instance's claim.
    const holding = (claims: Claim[]) => claims.find((c) => c.instanceId === instanceId);
    const seen = holding(await this.deps.claimView.claims(group.name));
    const claim = options.takeover ? seen && (await this.stillClaimed(seen)) : (seen ?? holding(await this.deps.claims.list(group.name)));
    if (!claim) {
      if (registry.get(instanceId)?.status === 'waiting' || !registry.get(instanceId)) registry.set(instanceId, group.name, { status: 'gone' });
      if (seen) log.info({ nodeId: seen.nodeId }, 'takeover: the claim is gone already (the owner released it); nothing to do');
      else log.info('terminate: the instance holds no pair');
      return;
    }
    registry.set(instanceId, group.name, { status: 'releasing', nodeId: claim.nodeId });
    const pair = (await this.deps.inventory.get(group)).find((p) => p.nodeId === claim.nodeId);
    if (pair?.eni) {
      await this.releaseEni(pair.eni.networkInterfaceId, instanceId, log);
      this.step('eni-detached', instanceId, claim.nodeId);
    }
    if (pair?.volume) {
      // AWS detaches the volume itself once the instance is gone; the pair is free only then.
      await pollUntil(() => ec2.volumes.read(pair.volume!.volumeId), (v) => v?.attachment?.instanceId !== instanceId, {
        ...this.waitOptions(),
        what: `${pair.volume.volumeId} to detach from ${instanceId}`,
      });
      this.step('volume-freed', instanceId, claim.nodeId);
    }
    await this.withdrawAnnouncement(group.name, claim.nodeId, instanceId);
    const released = await this.release(claim, pair?.availabilityZone);
    this.step('claim-released', instanceId, claim.nodeId);
    registry.set(instanceId, group.name, { status: 'released' });
    log.info({ nodeId: claim.nodeId }, 'pair released');
    // A claim another replica or task released first is that one's release to tell.
    if (released) this.tellReleased(group, claim.nodeId, pair, instanceId, log);
  }

  /**
   * Tells again a release a crash kept untold: resync found the holder tag naming an
   * instance that holds neither the pair nor its claim. Checked on fresh reads first.
   */
  async tellUntoldRelease(group: GroupConfig, instanceId: string, nodeId: string): Promise<void> {
    const log = this.deps.logger.child({ instanceId, group: group.name, nodeId });
    const pair = (await this.deps.inventory.get(group, { maxAgeMs: 0 })).find((p) => p.nodeId === nodeId);
    const claimant = (await this.deps.claimView.claims(group.name)).find((c) => c.nodeId === nodeId)?.instanceId;
    if (!pair || untoldReleaseOf(pair, claimant) !== instanceId) return;
    log.warn('the release of the pair was not told (a crash after its claim went): telling it now');
    this.tellReleased(group, nodeId, pair, instanceId, log);
  }

  /**
   * Tells `pair.released` (not awaited: a slow webhook holds up no launch), and once it
   * is delivered (or given up on) removes the holder tag where it still names the
   * instance, which records the release as told. A crash before that leaves the tag on
   * a pair the instance no longer holds, and resync tells it again: at least once.
   */
  private tellReleased(group: GroupConfig, nodeId: string, pair: Pair | undefined, instanceId: string, log: Logger): void {
    const key = announcementKey(group.name, nodeId, instanceId);
    if (this.releasing.has(key)) return;
    this.releasing.add(key);
    const told = this.deps.notify?.(notifyEvent('pair.released', { group: group.name, instanceId, nodeId, ...pairFields(pair) })) ?? Promise.resolve();
    const tagged = [pair?.volume?.volumeId, pair?.eni?.networkInterfaceId].filter((id): id is string => id !== undefined);
    void told
      .then(async () => {
        if (tagged.length === 0) return;
        await this.record(this.deps.ec2.untag(tagged, { key: HOLDER_TAG, value: instanceId }));
        this.step('untagged', instanceId, nodeId);
      })
      .catch((err: unknown) => log.warn({ err, nodeId }, 'cannot record the release as told; resync tells it again'))
      .finally(() => this.releasing.delete(key));
  }

  /**
   * Volume, then ENI, then the volume prepared, and the attachment announced: each
   * step skipped when it is found done, so a repeated launch (or resync after a crash)
   * finishes exactly what is missing. The claim is not written again: that the pair is
   * attached is EC2's to say (holdsPair), and Parameter Store takes about 3 writes a second.
   */
  private async attach(group: GroupConfig, pair: Pair, instance: InstanceInfo, log: Logger): Promise<Attached> {
    const { instanceId } = instance;
    const eniId = pair.eni!.networkInterfaceId;
    const started = performance.now();
    // Where the ENI is now, not where the inventory saw it: the instance EC2 shows it on (one read
    // with the round's attachment watches), so the volume is attached only when the ENI can follow.
    const eniHolder = await this.deps.ec2.instancesByEni.read(eniId);
    const eni: EniInfo = { ...pair.eni!, status: eniHolder ? 'in-use' : 'available', attachment: eniHolder?.attachments.get(eniId) };
    let eniNow = eni;
    // Whether this call attached anything, or found it done (a duplicate, a stale read, another replica).
    let changed = false;
    // The volume's attachment, when this call made it.
    let attachedNow: Attachment | undefined;
    if (!isWholeOn({ volume: pair.volume, eni }, instanceId)) {
      await this.freeEniFromDeparted(eniId, eniHolder, instanceId, log);
      const volume = await this.attachVolume(group, pair, instance, log);
      const attachedEni = await this.attachEni(group, eni, instance, pair.nodeId);
      [eniNow, changed] = [attachedEni.info, volume.changed || attachedEni.changed];
      if (volume.changed) attachedNow = volume.attachment;
    }
    // Attached by this call, the rest of the volume is as the inventory read it: nothing (a
    // prepare, an announcement) can have happened on this attachment yet. Otherwise it is read
    // anew: the shared inventory can predate the tags an earlier task for the instance wrote
    // (after a restart: resync's pair, then the hook's message), and it would be prepared and
    // announced again. Preparing reads it anew too: whether a volume may be formatted is
    // decided on what EC2 says now (its snapshot, its tags), never on a shared read.
    const volumeNow =
      attachedNow && !group.prepare ? { ...pair.volume!, state: 'in-use', attachment: attachedNow } : await this.volumeOn(pair.volume!.volumeId, instanceId);
    await this.prepare(group, volumeNow, instanceId, pair.nodeId, log);
    this.deps.registry.set(instanceId, group.name, { status: 'paired', nodeId: pair.nodeId, availabilityZone: pair.availabilityZone });
    this.announce(group, { ...pair, volume: volumeNow, eni: eniNow }, instanceId, log);
    if (!changed) return 'unchanged';
    const durationMs = performance.now() - started;
    this.deps.onAttached?.(group.name, durationMs / 1000);
    log.info({ nodeId: pair.nodeId, volumeId: volumeNow.volumeId, networkInterfaceId: eniId, durationMs: Math.round(durationMs) }, 'pair attached');
    return 'paired';
  }

  /**
   * Tells `pair.attached` unless it was told before (the holder tag names the
   * instance) or is being told; once delivered (or given up on), writes the holder
   * tag, which records it as told. A crash before that tells it again: at least once.
   * Not awaited: a slow webhook never holds up the lifecycle hook.
   */
  private announce(group: GroupConfig, pair: Pair, instanceId: string, log: Logger): void {
    const key = announcementKey(group.name, pair.nodeId, instanceId);
    if (isAnnounced(pair, instanceId) || this.announcing.has(key)) return;
    const event = notifyEvent('pair.attached', { group: group.name, instanceId, nodeId: pair.nodeId, ...pairFields(pair) });
    const told = this.deps.notify?.(event) ?? Promise.resolve();
    this.step('announced', instanceId, pair.nodeId);
    const announcement = { withdrawn: false };
    this.announcing.set(key, announcement);
    void told
      .then(async () => {
        // The instance went while the webhook was slow, and its pair is being released: a free pair carries no holder tag.
        if (announcement.withdrawn) return;
        await this.record(this.deps.ec2.tag([pair.volume!.volumeId, pair.eni!.networkInterfaceId], { [HOLDER_TAG]: instanceId }));
        this.step('holder-tagged', instanceId, pair.nodeId);
      })
      .catch((err: unknown) => log.warn({ err, nodeId: pair.nodeId }, 'cannot record the pair as announced; resync announces it again'))
      .finally(() => this.announcing.delete(key));
  }

  /** Stops an announcement of the pair on the instance from tagging it from now on, and waits for a tag write already under way. */
  private async withdrawAnnouncement(group: string, nodeId: string, instanceId: string): Promise<void> {
    const announcement = this.announcing.get(announcementKey(group, nodeId, instanceId));
    if (announcement) announcement.withdrawn = true;
    await this.recordsIdle();
  }

  /** Keeps track of a holder-tag write, so `recordsIdle` can wait for it. */
  private record(write: Promise<void>): Promise<void> {
    this.recording.add(write);
    return write.finally(() => this.recording.delete(write));
  }

  /**
   * Resolves when no announcement already told is still being recorded. Announcements
   * still waiting for their delivery are not waited for: a slow webhook holds up nothing.
   */
  async recordsIdle(): Promise<void> {
    while (this.recording.size > 0) await Promise.allSettled([...this.recording]);
  }

  private step(step: PairingStep, instanceId: string, nodeId: string): void {
    this.deps.onStep?.(step, { instanceId, nodeId });
  }

  /** The pair's ENI left on another instance (its holder, as EC2 described it): taken only when EC2 says that instance is going or gone. */
  private async freeEniFromDeparted(eniId: string, holder: InstanceInfo | undefined, instanceId: string, log: Logger): Promise<void> {
    if (!holder || holder.instanceId === instanceId) return;
    if (!isGoneState(holder.state)) throw new PairUnavailable(`${eniId} is attached to ${holder.instanceId} (${holder.state})`);
    await this.releaseEni(eniId, holder.instanceId, log);
  }

  /** Attaches the volume (EC2's own refusal is the lock, invariant 2) and waits until it is attached. */
  private async attachVolume(group: GroupConfig, pair: Pair, instance: InstanceInfo, log: Logger): Promise<{ attachment: Attachment; changed: boolean }> {
    const { ec2 } = this.deps;
    const { instanceId } = instance;
    const volumeId = pair.volume!.volumeId;
    let changed = false;
    // No fresh read of the volume first: AttachVolume itself is the check (VolumeInUse).
    if (pair.volume?.attachment?.instanceId !== instanceId) {
      const answer = await ec2.attachVolume(volumeId, instanceId, group.volumeDevice).catch((err: unknown) => ({ failed: err }));
      changed = answer === 'attaching';
      // Refused or failed, yet attached to this very instance: another replica got there first for the same launch.
      const holder = changed ? instanceId : (await ec2.volumes.read(volumeId))?.attachment?.instanceId;
      if (holder !== instanceId) {
        // Someone else won the volume (invariant 2's last line): we never touch the ENI.
        if (answer === 'volume-in-use') throw new PairUnavailable(`${volumeId} is in use by ${holder ?? 'another instance'}`);
        // The device is taken on the instance: it already has a volume there, likely its pair from another replica.
        if (answer === 'device-in-use') throw new PairUnavailable(`${group.volumeDevice} is already in use on ${instanceId}`, { deviceTaken: true });
        throw (answer as { failed: unknown }).failed;
      }
    }
    const attachment = await this.attachmentSettled(volumeId, instance);
    if (changed) log.info({ nodeId: pair.nodeId, volumeId }, 'volume attached');
    this.step('volume-attached', instanceId, pair.nodeId);
    return { attachment, changed };
  }

  /** The volume as EC2 says it is now, attached to the instance. */
  private async volumeOn(volumeId: string, instanceId: string): Promise<VolumeInfo> {
    const volume = await this.deps.ec2.volumes.read(volumeId);
    if (!volume || !isAttachedTo(volume.attachment, instanceId)) throw attachmentLost(volumeId, instanceId);
    return volume;
  }

  /** Attaches the ENI, only after its volume (invariant 1), and keeps it on termination. */
  private async attachEni(group: GroupConfig, eni: EniInfo, instance: InstanceInfo, nodeId: string): Promise<{ info: EniInfo; changed: boolean }> {
    const { ec2 } = this.deps;
    const { instanceId } = instance;
    const eniId = eni.networkInterfaceId;
    let changed = false;
    if (eni.attachment?.instanceId !== instanceId) {
      try {
        await ec2.attachNetworkInterface(eniId, instanceId, group.eniDeviceIndex);
        changed = true;
      } catch (err) {
        // Another replica working on the same launch may have attached it a moment ago.
        if ((await ec2.networkInterfaces.read(eniId))?.attachment?.instanceId !== instanceId) throw err;
      }
    }
    const attachment = await this.attachmentSettled(eniId, instance);
    // After launch an ENI attachment keeps the ENI on termination by default; fix it only if it says otherwise.
    if (attachment.deleteOnTermination && attachment.attachmentId) await ec2.keepEniOnTermination(eniId, attachment.attachmentId);
    this.step('eni-attached', instanceId, nodeId);
    return { info: { ...eni, status: 'in-use', attachment }, changed };
  }

  /**
   * Waits until the volume or ENI is attached to the instance, watching the instance:
   * one DescribeInstances shows both kinds of attachment, and every launch of the moment
   * shares it (ENI checks included, see `instancesByEni`), where watching the volumes and
   * the ENIs themselves takes two calls a round.
   */
  private async attachmentSettled(resourceId: string, instance: InstanceInfo): Promise<Attachment> {
    const { instanceId } = instance;
    const now = await pollUntil(() => this.deps.ec2.readAgain(instance), (i) => settled(i?.attachments.get(resourceId), instanceId), {
      ...this.waitOptions(),
      what: `${resourceId} to attach to ${instanceId}`,
    });
    const attachment = now?.attachments.get(resourceId);
    if (!attachment || !isAttachedTo(attachment, instanceId)) throw attachmentLost(resourceId, instanceId);
    return attachment;
  }

  /** Prepares the volume (as EC2 says it is now: attach() reads it anew for a group that prepares) when the group asks for it and it was not prepared there yet. */
  private async prepare(group: GroupConfig, volume: VolumeInfo, instanceId: string, nodeId: string, log: Logger): Promise<void> {
    if (!group.prepare || !this.deps.preparer || volume.tags[PREPARED_TAG] === instanceId) return;
    this.deps.registry.set(instanceId, group.name, { status: 'preparing' });
    log.info({ volumeId: volume.volumeId }, 'preparing the volume on the instance');
    await this.deps.preparer.prepare(group.prepare, { instanceId, volume });
    await this.deps.ec2.tag([volume.volumeId], { [PREPARED_TAG]: instanceId });
    this.step('prepared', instanceId, nodeId);
  }

  /** Detaches an ENI from an instance that is going away, and waits until it is free. */
  private async releaseEni(eniId: string, fromInstanceId: string, log: Logger): Promise<void> {
    const { ec2 } = this.deps;
    const eni = await ec2.networkInterfaces.read(eniId);
    const attachment = eni?.attachment;
    if (!attachment || attachment.instanceId !== fromInstanceId) return;
    if (attachment.state !== 'detaching' && attachment.attachmentId) {
      await ec2.detachNetworkInterface(attachment.attachmentId);
      log.info({ networkInterfaceId: eniId, from: fromInstanceId }, 'detaching network interface from a departed instance');
    }
    await pollUntil(() => ec2.networkInterfaces.read(eniId), (n) => !n?.attachment, { ...this.waitOptions(), what: `${eniId} to detach` });
  }

  /** Why Auto Scaling says the instance must not take a pair now, or undefined when it may. */
  private async turnedAway(group: GroupConfig, instanceId: string): Promise<TurnedAway | undefined> {
    const member = await this.deps.autoScaling.instances.read(instanceId);
    if (member?.group !== group.name) {
      return { outcome: 'refused', reason: `Auto Scaling does not count ${instanceId} as a member of ${group.name}${member ? ` (it is in ${member.group})` : ''}` };
    }
    if (!isPairableState(member.lifecycleState)) return { outcome: 'gone', reason: `${instanceId} is ${member.lifecycleState}: a member on its way out takes no pair` };
    return undefined;
  }

  /**
   * The instance, once it can take attachments; undefined when EC2 says it is going or
   * stopped. One EC2 does not show (yet: DescribeInstances lags behind a launch) is
   * unknown, not gone: a retryable error, and the work is tried again.
   */
  private async runningInstance(instanceId: string): Promise<InstanceInfo | undefined> {
    const instance = await pollUntil(() => this.deps.ec2.instances.read(instanceId), (i) => !i || i.state !== 'pending', {
      ...this.waitOptions(),
      what: `${instanceId} to leave pending`,
    });
    if (!instance) throw new PairkeeperError('PK_AWS_NOT_FOUND', `EC2 does not show ${instanceId} (yet)`);
    return canTakeAttachments(instance.state) ? instance : undefined;
  }

  private waitOptions() {
    return { intervalMs: this.deps.pollIntervalMs, timeoutMs: this.deps.attachTimeoutMs };
  }
}

function announcementKey(group: string, nodeId: string, instanceId: string): string {
  return `${group} ${nodeId} ${instanceId}`;
}

/** Attached to the instance, or not (any more) attaching to it: either way, waiting longer won't change it. */
function settled(attachment: { instanceId: string; state: string } | undefined, instanceId: string): boolean {
  return attachment?.instanceId !== instanceId || isAttachedTo(attachment, instanceId);
}

/** Seen when the instance went away mid-attach: its terminate will release the claim, a retry will see it gone. */
function attachmentLost(resourceId: string, instanceId: string): PairkeeperError {
  return new PairkeeperError('PK_ATTACHMENT_LOST', `${resourceId} is no longer attaching to ${instanceId}`);
}

/** What a notification says of a pair: where it is, its volume, ENI and address. */
function pairFields(pair: Pick<Pair, 'availabilityZone' | 'volume' | 'eni'> | undefined) {
  const fields: { availabilityZone?: string; volumeId?: string; networkInterfaceId?: string; privateIp?: string } = {};
  if (pair?.availabilityZone) fields.availabilityZone = pair.availabilityZone;
  if (pair?.volume) fields.volumeId = pair.volume.volumeId;
  if (pair?.eni) fields.networkInterfaceId = pair.eni.networkInterfaceId;
  if (pair?.eni?.privateIpAddress) fields.privateIp = pair.eni.privateIpAddress;
  return fields;
}

import type { Logger } from 'pino';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import { errorCode } from '../aws/aws-errors.ts';
import type { ClaimStore } from '../claims/claim-store.ts';
import { compareNodeIds, eniHolders, freePairs } from '../domain/inventory.ts';
import type { Claim, InstanceInfo, Pair, VolumeInfo } from '../domain/pairs.ts';
import { PairkeeperError } from '../errors.ts';
import { notifyEvent, type NotifyEvent } from '../notify/events.ts';
import type { InstanceRegistry } from './instance-registry.ts';
import type { GroupSpec, InventoryCache } from './inventory-cache.ts';
import { pollUntil } from './poll.ts';
import { SharedRead } from './shared-read.ts';
import type { PrepareSpec, VolumePreparer } from '../volume-prep/volume-preparer.ts';

export interface PairingGroup extends GroupSpec {
  volumeDevice: string;
  eniDeviceIndex: number;
  prepare?: PrepareSpec | undefined;
}

/** The tag that shows the holder in the AWS console. */
export const HOLDER_TAG = 'pairkeeper:instance-id';
/** On the volume: the instance it was last prepared on, so a repeat launch does not prepare it again. */
export const PREPARED_TAG = 'pairkeeper:prepared-on';

const GONE = new Set(['shutting-down', 'terminated']);
/** How long one list of claims serves the first look of every launch. */
const SHARED_CLAIMS_MS = 1000;
const NOT_ATTACHABLE = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

/** paired: this launch attached something; unchanged: the pair was already whole (a duplicate, a resync). */
type Attached = 'paired' | 'unchanged';

export type LaunchOutcome = { outcome: Attached } | { outcome: 'gone' } | { outcome: 'waiting'; reason: string };

/** This pair cannot be had right now; try the next one. */
class PairUnavailable extends Error {}

export interface PairingDeps {
  ec2: Ec2Gateway;
  claims: ClaimStore;
  inventory: InventoryCache;
  registry: InstanceRegistry;
  logger: Logger;
  pollIntervalMs: number;
  attachTimeoutMs: number;
  /** Called when a pair is released, with its group and AZ, so waiting instances get another try. */
  onRelease: (group: string, availabilityZone: string) => void;
  /** Called when a pair is whole on its instance, with how long attaching took. */
  onAttached?: (group: string, seconds: number) => void;
  /** Told of pairs attached and released and of instances starting to wait (at least once each). */
  notify?: (event: NotifyEvent) => void;
  /** Prepares volumes of groups with `prepare`. */
  preparer?: VolumePreparer;
}

/**
 * Launch and terminate for one instance, level-based: each step re-reads what EC2
 * says and does only what is missing, so a duplicate, a retry or a restart in the
 * middle converges instead of doing things twice. The volume is always attached
 * before the ENI (invariant 1), a volume is never detached and nothing is deleted
 * (invariant 3), and the only detach is of an ENI whose instance is going away.
 */
export class Pairing {
  private readonly d: PairingDeps;
  private readonly claimLists = new SharedRead<Claim[]>();

  constructor(deps: PairingDeps) {
    this.d = deps;
  }

  async launch(group: PairingGroup, instanceId: string): Promise<LaunchOutcome> {
    const { registry } = this.d;
    const log = this.d.logger.child({ instanceId, group: group.name });
    const instance = await this.runningInstance(instanceId);
    if (!instance) {
      registry.set(instanceId, group.name, { status: 'gone', reason: 'instance is gone or going' });
      log.info('launch: instance is gone or going; nothing to do');
      return { outcome: 'gone' };
    }
    const az = instance.availabilityZone;
    const wasWaiting = registry.get(instanceId)?.status === 'waiting';
    registry.set(instanceId, group.name, { status: 'pairing', availabilityZone: az });

    // The shared inventory may be a moment old: before saying "no pair", look once more with fresh reads.
    for (const fresh of [false, true]) {
      const done = await this.tryPairs(group, instance, fresh, log);
      if (done) return { outcome: done };
    }
    const reason = `no free pair in ${az}`;
    registry.set(instanceId, group.name, { status: 'waiting', availabilityZone: az, reason });
    log.warn({ availabilityZone: az }, 'no free pair; the instance waits for one to be released');
    if (!wasWaiting) this.d.notify?.(notifyEvent('instance.waiting', { group: group.name, instanceId, availabilityZone: az, reason }));
    return { outcome: 'waiting', reason };
  }

  /**
   * Records the claim of a pair whose volume is found on a member that has no claim
   * (a lost claim store, a crash between steps, a claim released by mistake). Checked
   * again on fresh reads first. A pair found whole is recorded as attached; otherwise
   * as claimed, and the launch that follows finishes it.
   */
  async adopt(group: PairingGroup, instanceId: string, nodeId: string): Promise<void> {
    const log = this.d.logger.child({ instanceId, group: group.name, nodeId });
    const pair = (await this.d.inventory.get(group, { maxAgeMs: 0 })).find((p) => p.nodeId === nodeId);
    const claims = await this.d.claims.list(group.name);
    if (pair?.condition !== 'usable' || pair.volume?.attachment?.instanceId !== instanceId || claims.some((c) => c.instanceId === instanceId || c.nodeId === nodeId)) {
      log.info('adopt: no longer an unclaimed pair on this instance; nothing to do');
      return;
    }
    const whole = pair.volume.attachment.state === 'attached' && pair.eni?.attachment?.instanceId === instanceId && pair.eni.attachment.state === 'attached';
    const now = new Date().toISOString();
    if (!(await this.d.claims.create({ group: group.name, nodeId, instanceId, state: whole ? 'attached' : 'claimed', since: now, updatedAt: now }))) {
      log.info('adopt: someone claimed the pair first');
      return;
    }
    if (whole) {
      await this.d.ec2.tag([pair.volume.volumeId, pair.eni!.networkInterfaceId], { [HOLDER_TAG]: instanceId });
      this.d.registry.set(instanceId, group.name, { status: 'paired', nodeId, availabilityZone: pair.availabilityZone });
    }
    log.warn({ whole }, 'adopted a pair found on the instance with no claim');
  }

  /** One pass over the free pairs of the instance's AZ; false when none could be had. */
  private async tryPairs(group: PairingGroup, instance: InstanceInfo, fresh: boolean, log: Logger): Promise<Attached | undefined> {
    const { instanceId, availabilityZone: az } = instance;
    // The first look shares a recent list of claims (a burst would otherwise list once per
    // launch; with the SSM store that is many calls): a stale list only costs a create that
    // answers "already exists". The second look lists anew.
    const claims = fresh ? await this.d.claims.list(group.name) : await this.sharedClaims(group.name);
    // A second look shares only a read started a moment ago: the many launches that look again at once still share one.
    const pairs = await this.d.inventory.get(group, fresh ? { maxAgeMs: 50 } : {});
    const held = claims.find((c) => c.instanceId === instanceId);
    if (held) {
      return this.resume(group, pairs, held, instance, log);
    }

    const gone = new Set<string>();
    for (const holder of eniHolders(pairs, az)) {
      const state = (await this.d.ec2.instances.read(holder))?.state;
      if (state === undefined || GONE.has(state)) gone.add(holder);
    }
    const taken = new Set(claims.map((c) => c.nodeId));
    for (const pair of rotate(freePairs(pairs, claims, az, (id) => gone.has(id)), instanceId)) {
      if (taken.has(pair.nodeId)) continue;
      const now = new Date().toISOString();
      const claim: Claim = { group: group.name, nodeId: pair.nodeId, instanceId, state: 'claimed', since: now, updatedAt: now };
      if (!(await this.d.claims.create(claim))) {
        taken.add(pair.nodeId);
        continue;
      }
      // Another replica may be pairing the same instance with another pair: one pair per
      // instance, so the earlier claim stays and the later one steps back. Two claims made
      // at the same moment can each miss the other; then EC2 refuses the second volume at
      // the same device, and that replica steps back there.
      const rival = earliest((await this.d.claims.list(group.name)).filter((c) => c.instanceId === instanceId));
      if (rival && rival.nodeId !== claim.nodeId) {
        await this.d.claims.release(group.name, claim.nodeId, instanceId);
        return this.resume(group, pairs, rival, instance, log);
      }
      try {
        return await this.attach(group, pair, instance, claim, log);
      } catch (err) {
        if (!(err instanceof PairUnavailable)) throw err;
        log.info({ nodeId: pair.nodeId, reason: err.message }, 'pair unavailable; trying the next');
        await this.d.claims.release(group.name, pair.nodeId, instanceId);
        const other = (await this.d.claims.list(group.name)).find((c) => c.instanceId === instanceId);
        if (other) {
          return this.resume(group, pairs, other, instance, log);
        }
      }
    }
    return undefined;
  }

  private sharedClaims(group: string): Promise<Claim[]> {
    return this.claimLists.get(group, SHARED_CLAIMS_MS, () => this.d.claims.list(group));
  }

  /** Carries on with the pair the instance already holds. */
  private async resume(group: PairingGroup, pairs: Pair[], held: Claim, instance: InstanceInfo, log: Logger): Promise<Attached> {
    const pair = pairs.find((p) => p.nodeId === held.nodeId);
    if (!pair || pair.condition !== 'usable') throw new PairkeeperError('PK_PAIR_BROKEN', `claimed pair ${held.nodeId} is not usable any more`, { retryable: false });
    return this.attach(group, pair, instance, held, log);
  }

  /**
   * Releases the instance's pair once it is gone. `departing`: Auto Scaling has been
   * told to terminate it (our terminating hook completed), so wait for EC2 to agree
   * rather than treating a still-running instance as a stale message.
   */
  async terminate(group: PairingGroup, instanceId: string, options: { departing?: boolean } = {}): Promise<void> {
    const { registry, ec2 } = this.d;
    const log = this.d.logger.child({ instanceId, group: group.name });
    const read = () => ec2.instances.read(instanceId);
    const instance = options.departing
      ? await pollUntil(read, (i) => !i || GONE.has(i.state), { ...this.waitOptions(), what: `${instanceId} to terminate` })
      : await read();
    if (instance && !GONE.has(instance.state)) {
      // Out of order or stale: the instance is alive, so its pair stays with it.
      log.warn({ state: instance.state }, 'terminate for an instance that is not terminating; ignored');
      return;
    }
    const claim = (await this.d.claims.list(group.name)).find((c) => c.instanceId === instanceId);
    if (!claim) {
      if (registry.get(instanceId)?.status === 'waiting' || !registry.get(instanceId)) registry.set(instanceId, group.name, { status: 'gone' });
      log.info('terminate: the instance holds no pair');
      return;
    }
    registry.set(instanceId, group.name, { status: 'releasing', nodeId: claim.nodeId });
    const pair = (await this.d.inventory.get(group)).find((p) => p.nodeId === claim.nodeId);
    if (pair?.eni) await this.releaseEni(pair.eni.networkInterfaceId, instanceId, log);
    if (pair?.volume) {
      // AWS detaches the volume itself once the instance is gone; the pair is free only then.
      await pollUntil(() => ec2.volumes.read(pair.volume!.volumeId), (v) => v?.attachment?.instanceId !== instanceId, {
        ...this.waitOptions(),
        what: `${pair.volume.volumeId} to detach from ${instanceId}`,
      });
    }
    if (pair?.volume && pair.eni) {
      await ec2.untag([pair.volume.volumeId, pair.eni.networkInterfaceId], [HOLDER_TAG]);
    }
    const released = await this.d.claims.release(group.name, claim.nodeId, instanceId);
    registry.set(instanceId, group.name, { status: 'released' });
    log.info({ nodeId: claim.nodeId }, 'pair released');
    if (released) {
      this.d.notify?.(
        notifyEvent('pair.released', {
          group: group.name,
          instanceId,
          nodeId: claim.nodeId,
          ...pairFields(pair),
        }),
      );
    }
    const az = pair?.availabilityZone;
    if (az) this.d.onRelease(group.name, az);
  }

  /** Volume, then ENI; each step skipped when EC2 already shows it done. */
  private async attach(group: PairingGroup, pair: Pair, instance: InstanceInfo, claim: Claim, log: Logger): Promise<Attached> {
    const { ec2 } = this.d;
    const volumeId = pair.volume!.volumeId;
    const eniId = pair.eni!.networkInterfaceId;
    const ids = { nodeId: pair.nodeId, volumeId, networkInterfaceId: eniId };
    const started = performance.now();

    const eni = await ec2.networkInterfaces.read(eniId);
    if (!eni) throw new PairUnavailable(`${eniId} no longer exists`);
    const onIt = (a: { instanceId: string; state: string } | undefined) => a?.instanceId === instance.instanceId && a.state === 'attached';
    if (claim.state === 'attached' && onIt(pair.volume?.attachment) && onIt(eni.attachment)) {
      await this.prepare(group, pair.volume!, instance.instanceId, log);
      this.d.registry.set(instance.instanceId, group.name, { status: 'paired', nodeId: pair.nodeId, availabilityZone: pair.availabilityZone });
      return 'unchanged';
    }
    if (eni.attachment && eni.attachment.instanceId !== instance.instanceId) {
      const holder = await ec2.instances.read(eni.attachment.instanceId);
      if (holder && !GONE.has(holder.state)) throw new PairUnavailable(`${eniId} is attached to ${holder.instanceId} (${holder.state})`);
      await this.releaseEni(eniId, eni.attachment.instanceId, log);
    }

    // Whether this call attached anything, or found it done (a duplicate, a stale read, another replica).
    let changed = false;
    // No fresh read of the volume first: AttachVolume itself is the check (VolumeInUse).
    if (pair.volume?.attachment?.instanceId !== instance.instanceId) {
      try {
        await ec2.attachVolume(volumeId, instance.instanceId, group.volumeDevice);
        changed = true;
      } catch (err) {
        // Attached to this very instance: another replica got there first for the same launch.
        const holder = (await ec2.volumes.read(volumeId))?.attachment?.instanceId;
        if (holder === instance.instanceId) {
          // carry on
        } else if (errorCode(err) === 'VolumeInUse') {
          // Someone else won the volume (invariant 2's last line): we never touch the ENI.
          throw new PairUnavailable(`${volumeId} is in use by ${holder ?? 'another instance'}`);
        } else if (errorCode(err) === 'InvalidParameterValue' && /already in use/.test((err as Error).message)) {
          // The device is taken on the instance: it already has a volume there, likely its pair from another replica.
          throw new PairUnavailable(`${group.volumeDevice} is already in use on ${instance.instanceId}`);
        } else {
          throw err;
        }
      }
    }
    const volumeNow = await pollUntil(() => ec2.volumes.read(volumeId), (v) => settled(v?.attachment, instance.instanceId), {
      ...this.waitOptions(),
      what: `${volumeId} to attach to ${instance.instanceId}`,
    });
    if (volumeNow?.attachment?.instanceId !== instance.instanceId) throw attachmentLost(volumeId, instance.instanceId);
    if (changed) log.info(ids, 'volume attached');

    if (eni.attachment?.instanceId !== instance.instanceId) {
      try {
        await ec2.attachNetworkInterface(eniId, instance.instanceId, group.eniDeviceIndex);
        changed = true;
      } catch (err) {
        // Another replica working on the same launch may have attached it a moment ago.
        if ((await ec2.networkInterfaces.read(eniId))?.attachment?.instanceId !== instance.instanceId) throw err;
      }
    }
    const eniNow = await pollUntil(() => ec2.networkInterfaces.read(eniId), (n) => settled(n?.attachment, instance.instanceId), {
      ...this.waitOptions(),
      what: `${eniId} to attach to ${instance.instanceId}`,
    });
    const attachment = eniNow?.attachment;
    if (attachment?.instanceId !== instance.instanceId) throw attachmentLost(eniId, instance.instanceId);
    // After launch an ENI attachment keeps the ENI on termination by default; fix it only if it says otherwise.
    if (attachment.deleteOnTermination && attachment.attachmentId) await ec2.keepEniOnTermination(eniId, attachment.attachmentId);

    await ec2.tag([volumeId, eniId], { [HOLDER_TAG]: instance.instanceId });
    const now = new Date().toISOString();
    await this.d.claims.update({ ...claim, state: 'attached', updatedAt: now });
    await this.prepare(group, volumeNow, instance.instanceId, log);
    this.d.registry.set(instance.instanceId, group.name, { status: 'paired', nodeId: pair.nodeId });
    // Told once a claim says attached; a crash before that tells it again (at least once).
    if (changed || claim.state !== 'attached') {
      this.d.notify?.(notifyEvent('pair.attached', { group: group.name, instanceId: instance.instanceId, nodeId: pair.nodeId, ...pairFields({ ...pair, eni: eniNow }) }));
    }
    if (!changed) return 'unchanged';
    const durationMs = performance.now() - started;
    this.d.onAttached?.(group.name, durationMs / 1000);
    log.info({ ...ids, durationMs: Math.round(durationMs) }, 'pair attached');
    return 'paired';
  }

  /** Prepares the volume on the instance when the group asks for it and it was not prepared there yet. */
  private async prepare(group: PairingGroup, volume: VolumeInfo, instanceId: string, log: Logger): Promise<void> {
    if (!group.prepare || !this.d.preparer || volume.tags[PREPARED_TAG] === instanceId) return;
    this.d.registry.set(instanceId, group.name, { status: 'preparing' });
    log.info({ volumeId: volume.volumeId }, 'preparing the volume on the instance');
    await this.d.preparer.prepare(group.prepare, { instanceId, volume });
    await this.d.ec2.tag([volume.volumeId], { [PREPARED_TAG]: instanceId });
  }

  /** Detaches an ENI from an instance that is going away, and waits until it is free. */
  private async releaseEni(eniId: string, fromInstanceId: string, log: Logger): Promise<void> {
    const { ec2 } = this.d;
    const eni = await ec2.networkInterfaces.read(eniId);
    const attachment = eni?.attachment;
    if (!attachment || attachment.instanceId !== fromInstanceId) return;
    if (attachment.state !== 'detaching' && attachment.attachmentId) {
      await ec2.detachNetworkInterface(attachment.attachmentId);
      log.info({ networkInterfaceId: eniId, from: fromInstanceId }, 'detaching network interface from a departed instance');
    }
    await pollUntil(() => ec2.networkInterfaces.read(eniId), (n) => !n?.attachment, { ...this.waitOptions(), what: `${eniId} to detach` });
  }

  /** The instance, once it can take attachments; undefined when it is gone or going. */
  private async runningInstance(instanceId: string): Promise<InstanceInfo | undefined> {
    const instance = await pollUntil(() => this.d.ec2.instances.read(instanceId), (i) => !i || i.state !== 'pending', {
      ...this.waitOptions(),
      what: `${instanceId} to leave pending`,
    });
    return instance && !NOT_ATTACHABLE.has(instance.state) ? instance : undefined;
  }

  private waitOptions() {
    return { intervalMs: this.d.pollIntervalMs, timeoutMs: this.d.attachTimeoutMs };
  }
}

/** The claim made first (then the lower NodeID): every replica picks the same one. */
function earliest(claims: Claim[]): Claim | undefined {
  return [...claims].sort((a, b) => a.since.localeCompare(b.since) || compareNodeIds(a.nodeId, b.nodeId))[0];
}

/** Attached to the instance, or not (any more) attaching to it: either way, waiting longer won't change it. */
function settled(attachment: { instanceId: string; state: string } | undefined, instanceId: string): boolean {
  return attachment?.instanceId !== instanceId || attachment.state === 'attached';
}

/** Seen when the instance went away mid-attach: its terminate will release the claim, a retry will see it gone. */
function attachmentLost(resourceId: string, instanceId: string): PairkeeperError {
  return new PairkeeperError('PK_ATTACHMENT_LOST', `${resourceId} is no longer attaching to ${instanceId}`, { retryable: true });
}

/**
 * The free pairs in stable order, starting at a place that depends on the instance:
 * many instances launched at once then try different pairs first instead of all
 * racing for the first one.
 */
function rotate(pairs: Pair[], instanceId: string): Pair[] {
  if (pairs.length === 0) return pairs;
  let h = 0;
  for (const ch of instanceId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const start = h % pairs.length;
  return [...pairs.slice(start), ...pairs.slice(0, start)];
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

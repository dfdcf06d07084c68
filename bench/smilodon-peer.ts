import { setTimeout as sleep } from 'node:timers/promises';
import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Filter,
  type NetworkInterface,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type Tag,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { Ec2BucketStats } from '../fake-aws/ec2/throttling.ts';
import { FAKE_CREDENTIALS, startFakeAws, type FakeAws } from '../fake-aws/index.ts';
import { seedPairs } from '../fake-aws/ec2/seed.ts';
import { checkPairs, type PairCheck } from '../fake-aws/ec2/pair-check.ts';
import { bucketBound, scaleForBound } from './bucket-bound.ts';

/**
 * The peer side of the burst benchmark: Smilodon's way of pairing, run for every
 * instance at once against the local fake AWS. Each instance is on its own — its own
 * EC2 client with the SDK's default retries (standard mode, 3 attempts), no lock, no
 * coordination — and does what Smilodon does from inside an instance:
 *
 *   1. DescribeVolumes and DescribeNetworkInterfaces with the tag filters, `tag-key`
 *      = the NodeID tag, its own `availability-zone` and `status=available`;
 *   2. match them by NodeID and take the first pair (in EC2's order) with both free;
 *   3. AttachVolume — the volume attachment is the lock: on VolumeInUse (or any
 *      error) sleep `conflictSleepMs` and start over from 1;
 *   4. poll DescribeVolumes for that volume until its attachment is `attached`;
 *   5. AttachNetworkInterface, poll DescribeNetworkInterfaces until `attached`. Done.
 *
 * A round that fails after the volume is held keeps the volume (as Smilodon does: it
 * finds "its" volume attached on the next pass) and only retries what is missing.
 *
 * Where this is kinder to Smilodon than Smilodon is (so the comparison is not against
 * a straw man): the NodeID is read from the Describe answer's tags, not with one
 * DescribeTags call per resource; no DescribeInstances for the VPC id nor
 * ModifyNetworkInterfaceAttribute (SourceDestCheck) at start; `status=available` is a
 * server-side filter rather than a client-side check; the ENI is taken from the same
 * pair as the volume. Where it is stricter: Smilodon never waits for `attached`; this
 * peer polls (the comparison needs a finished pair), and it gives up after
 * `maxAttempts` rounds where Smilodon loops forever.
 */

export interface PeerInstance {
  instanceId: string;
  availabilityZone: string;
}

export interface SmilodonBurstOptions {
  /** Instances already `running` (Smilodon runs on the instance, so it is). */
  instances: PeerInstance[];
  /** Extra filters, e.g. `[{ Name: 'tag:Service', Values: ['etcd'] }]` (Smilodon's `--filters`). */
  filters: Filter[];
  nodeIdTag: string;
  /** AttachVolume's device, e.g. `/dev/sdf`. */
  device: string;
  /** AttachNetworkInterface's device index, e.g. 1. */
  deviceIndex: number;
  /** The sleep after a failed round (Smilodon: 120 s; scale it with the throttling). */
  conflictSleepMs: number;
  /** Rounds per instance before it gives up and counts as a failure. Default 1000. */
  maxAttempts?: number;
  /** Between polls of an attachment (the first poll comes after one interval). Default 100. */
  pollIntervalMs?: number;
  /** An attachment not `attached` by then fails the round (it is kept). Default 60 000. */
  attachTimeoutMs?: number;
  /** Every instance still at work by then stops and counts as a failure. Default none. */
  deadlineMs?: number;
}

export interface PeerOutcome {
  instanceId: string;
  availabilityZone: string;
  ok: boolean;
  nodeId: string | undefined;
  volumeId: string | undefined;
  networkInterfaceId: string | undefined;
  /** Rounds started (1 when the first pair it tried was won and attached). */
  rounds: number;
  /** Milliseconds from the burst's start to both attachments `attached` (or to giving up). */
  doneMs: number;
  /** HTTP calls this instance made, by action, SDK retries included. */
  calls: Record<string, number>;
  /** Error answers this instance received, as `Action:Code`, SDK-retried ones included. */
  answers: Record<string, number>;
  /** Errors that failed a round (after the SDK's retries), as `Action:Code`. */
  roundErrors: Record<string, number>;
  /** Why it gave up, when it did. */
  reason?: string;
}

export interface SmilodonBurstResult {
  wallMs: number;
  succeeded: number;
  failed: number;
  instances: PeerOutcome[];
  /** EC2 calls the fake answered during the burst, by action (throttled ones included). */
  calls: Record<string, number>;
  /** Calls the fake answered RequestLimitExceeded during the burst. */
  throttled: number;
  /** The fake's bucket counters over the burst (admitted `calls`, `throttled`), by bucket key. */
  buckets: Record<string, Ec2BucketStats>;
  pairs: PairCheck;
}

class RoundError extends Error {
  readonly code: string;
  readonly action: string;
  constructor(action: string, code: string, message: string) {
    super(message);
    this.action = action;
    this.code = code;
  }
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function errorCode(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : err.message;
  return String(err);
}

function tag(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** One instance's Smilodon, from start to a finished pair or giving up. */
async function runPeer(aws: Pick<FakeAws, 'url' | 'region'>, instance: PeerInstance, options: SmilodonBurstOptions, started: number, stop: AbortSignal): Promise<PeerOutcome> {
  const maxAttempts = options.maxAttempts ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const attachTimeoutMs = options.attachTimeoutMs ?? 60_000;
  const outcome: PeerOutcome = {
    ...instance,
    ok: false,
    nodeId: undefined,
    volumeId: undefined,
    networkInterfaceId: undefined,
    rounds: 0,
    doneMs: 0,
    calls: {},
    answers: {},
    roundErrors: {},
  };
  // Its own client, as each instance has: its own connections and its own SDK retry quota.
  const client = new EC2Client({ region: aws.region, endpoint: aws.url, credentials: FAKE_CREDENTIALS });
  // Inside the retry middleware, so it sees every HTTP attempt, not just every send.
  const countAttempts: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
    const action = (context.commandName ?? 'unknown').replace(/Command$/, '');
    bump(outcome.calls, action);
    try {
      return await next(args);
    } catch (err) {
      bump(outcome.answers, `${action}:${errorCode(err)}`);
      throw err;
    }
  };
  client.middlewareStack.addRelativeTo(countAttempts, { relation: 'after', toMiddleware: 'retryMiddleware', name: 'smilodonPeerAttemptCounter' });

  const search: Filter[] = [
    ...options.filters,
    { Name: 'tag-key', Values: [options.nodeIdTag] },
    { Name: 'availability-zone', Values: [instance.availabilityZone] },
    { Name: 'status', Values: ['available'] },
  ];

  async function call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw new RoundError(action, errorCode(err), err instanceof Error ? err.message : String(err));
    }
  }

  /** Polls until `attached` holds, as EC2's SDK waiters do: errors are retried until the timeout. */
  async function waitAttached(what: string, attached: () => Promise<boolean>): Promise<void> {
    const deadline = performance.now() + attachTimeoutMs;
    for (;;) {
      await sleep(pollIntervalMs, undefined, { signal: stop });
      try {
        if (await attached()) return;
      } catch {
        // counted in `answers`; a waiter keeps polling
      }
      if (performance.now() > deadline) throw new RoundError(what, 'WaitTimeout', `${what} not attached after ${attachTimeoutMs} ms`);
    }
  }

  let volume: { id: string; nodeId: string; attached: boolean } | undefined;
  let eni: { id: string; attached: boolean } | undefined;
  let lastError: string | undefined;
  try {
    while (outcome.rounds < maxAttempts) {
      stop.throwIfAborted();
      outcome.rounds += 1;
      try {
        const volumes: Volume[] =
          (await call('DescribeVolumes', () => client.send(new DescribeVolumesCommand({ Filters: search }), { abortSignal: stop }))).Volumes ?? [];
        const enis: NetworkInterface[] =
          (await call('DescribeNetworkInterfaces', () => client.send(new DescribeNetworkInterfacesCommand({ Filters: search }), { abortSignal: stop })))
            .NetworkInterfaces ?? [];

        if (!volume) {
          const freeEnis = new Map<string, NetworkInterface>();
          for (const e of enis) {
            const id = tag(e.TagSet, options.nodeIdTag);
            if (id !== undefined && !freeEnis.has(id)) freeEnis.set(id, e);
          }
          const pick = volumes.find((v) => {
            const id = tag(v.Tags, options.nodeIdTag);
            return id !== undefined && freeEnis.has(id);
          });
          if (!pick) throw new RoundError('pick', 'NoFreePair', `no available pair in ${instance.availabilityZone}`);
          const nodeId = tag(pick.Tags, options.nodeIdTag)!;
          await call('AttachVolume', () =>
            client.send(new AttachVolumeCommand({ VolumeId: pick.VolumeId!, InstanceId: instance.instanceId, Device: options.device }), { abortSignal: stop }),
          );
          volume = { id: pick.VolumeId!, nodeId, attached: false };
          outcome.nodeId = nodeId;
          outcome.volumeId = volume.id;
        }
        if (!volume.attached) {
          const held = volume;
          await waitAttached('AttachVolume', async () => {
            const answer = await client.send(new DescribeVolumesCommand({ VolumeIds: [held.id] }), { abortSignal: stop });
            const a = answer.Volumes?.[0]?.Attachments?.find((x) => x.InstanceId === instance.instanceId);
            return a?.State === 'attached';
          });
          volume.attached = true;
        }

        if (!eni) {
          const nodeId = volume.nodeId;
          const match = enis.find((e) => tag(e.TagSet, options.nodeIdTag) === nodeId);
          if (!match) throw new RoundError('pick', 'NoMatchingEni', `the ENI of ${nodeId} is not available`);
          await call('AttachNetworkInterface', () =>
            client.send(
              new AttachNetworkInterfaceCommand({ NetworkInterfaceId: match.NetworkInterfaceId!, InstanceId: instance.instanceId, DeviceIndex: options.deviceIndex }),
              { abortSignal: stop },
            ),
          );
          eni = { id: match.NetworkInterfaceId!, attached: false };
          outcome.networkInterfaceId = eni.id;
        }
        if (!eni.attached) {
          const held = eni;
          await waitAttached('AttachNetworkInterface', async () => {
            const answer = await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [held.id] }), { abortSignal: stop });
            const a = answer.NetworkInterfaces?.[0]?.Attachment;
            return a?.InstanceId === instance.instanceId && a.Status === 'attached';
          });
          eni.attached = true;
        }
        outcome.ok = true;
        return outcome;
      } catch (err) {
        if (stop.aborted) throw err;
        const e = err instanceof RoundError ? err : new RoundError('round', errorCode(err), String(err));
        bump(outcome.roundErrors, `${e.action}:${e.code}`);
        lastError = `${e.action}: ${e.code}`;
        await sleep(options.conflictSleepMs, undefined, { signal: stop });
      }
    }
    outcome.reason = `gave up after ${maxAttempts} rounds (last: ${lastError ?? 'none'})`;
    return outcome;
  } catch (err) {
    if (!stop.aborted) throw err;
    outcome.reason = `deadline (last: ${lastError ?? 'none'})`;
    return outcome;
  } finally {
    outcome.doneMs = performance.now() - started;
    client.destroy();
  }
}

function ec2Calls(all: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(all)) if (key.startsWith('EC2:')) out[key.slice(4)] = n;
  return out;
}

function bucketDelta(before: Record<string, Ec2BucketStats>, after: Record<string, Ec2BucketStats>): Record<string, Ec2BucketStats> {
  const out: Record<string, Ec2BucketStats> = {};
  for (const [key, s] of Object.entries(after)) {
    const b = before[key];
    const calls = s.calls - (b?.calls ?? 0);
    const throttled = s.throttled - (b?.throttled ?? 0);
    if (calls || throttled) out[key] = { ...s, calls, throttled };
  }
  return out;
}

/**
 * Runs Smilodon on every instance at once and reports what it cost and what it left.
 * Counters are read as differences over the burst; nothing in the fake is reset.
 */
export async function runSmilodonBurst(aws: FakeAws, options: SmilodonBurstOptions): Promise<SmilodonBurstResult> {
  const callsBefore = ec2Calls(aws.faults.calls());
  const bucketsBefore = aws.ec2.throttling.stats();
  const stop = options.deadlineMs === undefined ? new AbortController().signal : AbortSignal.timeout(options.deadlineMs);
  const started = performance.now();
  const instances = await Promise.all(options.instances.map((i) => runPeer(aws, i, options, started, stop)));
  const wallMs = performance.now() - started;

  const callsAfter = ec2Calls(aws.faults.calls());
  const calls: Record<string, number> = {};
  for (const [action, n] of Object.entries(callsAfter)) {
    const d = n - (callsBefore[action] ?? 0);
    if (d) calls[action] = d;
  }
  const buckets = bucketDelta(bucketsBefore, aws.ec2.throttling.stats());
  const succeeded = instances.filter((o) => o.ok).length;
  return {
    wallMs,
    succeeded,
    failed: instances.length - succeeded,
    instances,
    calls,
    throttled: Object.values(buckets).reduce((n, b) => n + b.throttled, 0),
    buckets,
    pairs: checkPairs(aws, options.nodeIdTag),
  };
}

// ---------------------------------------------------------------------------
// A whole burst, set up and printed: for `npm run bench` (wired by bench/run.ts).

export interface SmilodonBenchOptions {
  instances: number;
  pairs: number;
  azs: string[];
  /** The throttling scale; default: the one that puts the bound at `boundSeconds`. */
  scale?: number;
  /** Used when `scale` is not given. Default 7.5. */
  boundSeconds?: number;
  /** Smilodon's 120 s sleep, in scaled time, unless given. */
  conflictSleepMs?: number;
  /** Default 1 s of scaled time. */
  pollIntervalMs?: number;
  /** EC2's attach delay; default 2 s of scaled time. */
  attachDelayMs?: number;
  maxAttempts?: number;
  deadlineMs?: number;
}

export interface SmilodonBenchFigures {
  scale: number;
  boundSeconds: number;
  result: SmilodonBurstResult;
}

/** Seeds pairs, launches instances (spread over the AZs like the pairs), runs the burst, prints. */
export async function benchSmilodonBurst(options: SmilodonBenchOptions): Promise<SmilodonBenchFigures> {
  const { instances: n, pairs, azs } = options;
  // What any strategy must do for n launches: attach a volume and an ENI each.
  const required = { AttachVolume: Math.min(n, pairs), AttachNetworkInterface: Math.min(n, pairs) };
  const scale = options.scale ?? Math.max(1, scaleForBound(required, options.boundSeconds ?? 7.5));
  const bound = bucketBound(required, { scale });
  const aws = await startFakeAws({ ec2Timing: { attachDelayMs: options.attachDelayMs ?? 2000 / scale, launchDelayMs: 20 } });
  try {
    const tags = { Service: 'bench' };
    seedPairs(aws.ec2, { azs, pairs, tags });
    const launched = Array.from({ length: n }, (_, k) => aws.ec2.runInstance({ availabilityZone: azs[k % azs.length]! }));
    while (launched.some((i) => i.state !== 'running')) await sleep(10);
    aws.ec2.throttling.enable({ scale });
    const result = await runSmilodonBurst(aws, {
      instances: launched.map((i) => ({ instanceId: i.instanceId, availabilityZone: i.availabilityZone })),
      filters: [{ Name: 'tag:Service', Values: ['bench'] }],
      nodeIdTag: 'NodeID',
      device: '/dev/sdf',
      deviceIndex: 1,
      conflictSleepMs: options.conflictSleepMs ?? 120_000 / scale,
      pollIntervalMs: options.pollIntervalMs ?? 1000 / scale,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    });
    printBurst('Smilodon peer', result, { instances: n, pairs, azs: azs.length, scale, boundSeconds: bound.seconds });
    return { scale, boundSeconds: bound.seconds, result };
  } finally {
    await aws.close();
  }
}

export function printBurst(
  title: string,
  r: SmilodonBurstResult,
  ctx: { instances: number; pairs: number; azs: number; scale: number; boundSeconds: number },
): void {
  const perLaunch = (x: number) => (x / ctx.instances).toFixed(2);
  const done = r.instances.filter((o) => o.ok).map((o) => o.doneMs).sort((a, b) => a - b);
  const pct = (p: number) => (done.length ? (done[Math.min(done.length - 1, Math.floor(p * done.length))]! / 1000).toFixed(1) : '-');
  console.log(`\n${title}: ${ctx.instances} instances, ${ctx.pairs} pairs, ${ctx.azs} AZs, EC2 throttling at scale ${ctx.scale.toFixed(2)}`);
  console.log(`  wall time ${(r.wallMs / 1000).toFixed(1)} s vs bound ${ctx.boundSeconds.toFixed(1)} s (${(r.wallMs / 1000 / ctx.boundSeconds).toFixed(1)}x)`);
  console.log(`  paired ${r.succeeded}/${ctx.instances}, failed ${r.failed}; time to pair p50 ${pct(0.5)} s, p90 ${pct(0.9)} s, max ${pct(1)} s`);
  console.log('  calls per launch:');
  for (const [action, n] of Object.entries(r.calls)) console.log(`    ${action.padEnd(28)} ${perLaunch(n).padStart(8)}  (${n})`);
  console.log(`  throttled (RequestLimitExceeded): ${r.throttled}`);
  const p = r.pairs;
  console.log(`  pairs: ${p.complete.length} complete, ${p.free} free, ${p.split.length} split, ${p.double.length} double, ${p.greedy.length} greedy, ${p.inTransition} in transition — ${p.ok ? 'OK' : 'BROKEN'}`);
}

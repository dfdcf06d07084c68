/**
 * The crash-point proof of invariant 6: for every named pairing step (PAIRING_STEPS,
 * enumerated, so a new step is covered, or fails here, without touching this file)
 * and for both claim stores, pairkeeper is crashed exactly at that step — its onStep
 * hook flips the kill switch (every later AWS call fails, connections cut,
 * notifications not yet sent lost) and throws — then started again on the same port.
 * By the time the new process has run its start-up resync and one periodic resync
 * and the work they started, every whole pair is claimed by its holder, holder-tagged,
 * in /v1/facts, prepared, announced (pair.attached reached the webhook at least once
 * from either process) and its launch hook completed; and no invariant broke at any
 * moment in between. A seeded randomized run then mixes crashes at random steps with
 * SNS loss, duplication and reordering, EC2 throttling storms and a queue of 3.
 * (In the randomized run `claim-adopted` cannot strike: nothing loses a claim there.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import { seededRandom } from '../../fake-aws/random.ts';
import type { App } from '../../src/app.ts';
import { PAIRING_STEPS, type PairingStep } from '../../src/controller/facade.ts';
import type { NotifyEvent } from '../../src/domain/notify-event.ts';
import { HOLDER_TAG, PREPARED_TAG } from '../../src/domain/pairs.ts';
import type { ClusterFacts } from '../../src/notify/facts.ts';
import { HookServer } from '../helpers/hook-server.ts';
import { watchInvariants } from '../helpers/invariant-watch.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { AZS, type World, worldsClosedAfterEach } from '../helpers/world.ts';

const RESYNC_SECONDS = 0.5;
const STORES = ['file', 'ssm'] as const;
/** Steps of a release: reached by terminating an instance that holds a finished pair. */
const RELEASE_STEPS: ReadonlySet<PairingStep> = new Set(['eni-detached', 'volume-freed', 'untagged', 'claim-released']);
/** Steps only a launch lifecycle hook has. */
const HOOK_STEPS: ReadonlySet<PairingStep> = new Set(['hook-completed']);
/** Steps of adopting a lost claim: reached by losing the claim of a finished pair. */
const ADOPT_STEPS: ReadonlySet<PairingStep> = new Set(['claim-adopted']);
/** Seeds of the randomized run, each with its claim store. */
const SEEDS = [
  { seed: 101, store: 'ssm' },
  { seed: 202, store: 'file' },
  { seed: 303, store: 'ssm' },
] as const;
/** EC2 actions a throttling storm hits. */
const STORM_ACTIONS = ['AttachVolume', 'AttachNetworkInterface', 'DescribeVolumes', 'DescribeNetworkInterfaces', 'DescribeInstances', 'CreateTags', 'DeleteTags'];
const PAIRABLE = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);

/** What the onStep hook throws: the process stops at this step. */
class InjectedCrash extends Error {
  readonly code = 'TEST_INJECTED_CRASH';
}

/** The step to crash at (none: no crash armed), and where it struck. */
interface CrashPoint {
  step: PairingStep | undefined;
  hit: { instanceId: string; nodeId: string; step: PairingStep } | undefined;
}

const newWorld = worldsClosedAfterEach();
let hook: HookServer | undefined;
afterEach(async () => {
  await hook?.stop();
  hook = undefined;
});

async function start(store: 'file' | 'ssm', crashAt: CrashPoint, extra: { seed?: number; config?: Record<string, unknown>; launchHook?: boolean } = {}) {
  hook = await HookServer.start();
  const w = await newWorld({
    claims: store,
    pairs: { pairs: 2 * AZS.length },
    fake: { ...(extra.seed === undefined ? {} : { seed: extra.seed }) },
    config: {
      resync: { intervalSeconds: RESYNC_SECONDS },
      groups: [{ name: 'etcd', filters: 'Service=etcd', prepare: { mountPoint: '/var/lib/etcd', agentTimeoutSeconds: 5, timeoutSeconds: 60 } }],
      notify: { webhooks: [{ url: `${hook.url}/hook/{type}` }], retry: { attempts: 4, baseMs: 20, capMs: 100 } },
      ...extra.config,
    },
    onStep: (step, ids, crash) => {
      if (crashAt.hit || step !== crashAt.step) return;
      crashAt.hit = { ...ids, step };
      crash();
      throw new InjectedCrash(`injected crash at ${step} (${ids.instanceId}, ${ids.nodeId})`);
    },
  });
  // Long enough never to time out here: a completed hook is pairkeeper's doing, not the default result.
  if (extra.launchHook !== false) w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 3600, notificationTargetArn: w.topicArn });
  // Each script run, and whether its volume was already recorded as prepared on that instance (a run for nothing).
  const prepared: { instanceId: string; again: boolean }[] = [];
  w.aws.ssm.commands.handler = (instanceId, _document, parameters) => {
    const volumeId = /VOLUME_ID='([^']*)'/.exec(parameters.commands?.[0] ?? '')?.[1];
    // Fails the preparation, hence the test: without the volume this check would pass for nothing.
    if (!volumeId) throw new Error('the command names no VOLUME_ID');
    prepared.push({ instanceId, again: w.aws.ec2.volume(volumeId)?.tags.get(PREPARED_TAG) === instanceId });
    return { status: 'Success', stdout: 'prepared' };
  };
  return { w, hook, prepared };
}

function events(h: HookServer, type: NotifyEvent['type']): NotifyEvent[] {
  return h.requests.map((r) => JSON.parse(r.body) as NotifyEvent).filter((e) => e.type === type);
}

/** Facts (pair.attached, pair.released of one pair and instance) told under more than one id: a receiver could not drop the repeat. */
function toldUnderSeveralIds(h: HookServer): string[] {
  const ids = new Map<string, Set<string>>();
  for (const e of h.requests.map((r) => JSON.parse(r.body) as NotifyEvent)) {
    if (e.type !== 'pair.attached' && e.type !== 'pair.released') continue;
    const fact = `${e.type} ${e.nodeId} on ${e.instanceId}`;
    ids.set(fact, (ids.get(fact) ?? new Set()).add(e.id));
  }
  return [...ids].filter(([, told]) => told.size > 1).map(([fact, told]) => `${fact}: ${told.size} ids`);
}

function announcements(h: HookServer): NotifyEvent[] {
  return events(h, 'pair.attached');
}

/**
 * Everything still unfinished (empty once converged): every running member holds a
 * whole pair, every whole pair is on a member and finished in every respect, no
 * claim outlives its pair, and a free pair carries no holder tag.
 */
async function unfinished(w: World, h: HookServer): Promise<string[]> {
  const left: string[] = [];
  const group = w.aws.autoScaling.groups().find((g) => g.name === 'etcd')!;
  const members = [...group.members.values()].filter((m) => PAIRABLE.has(m.lifecycleState) && w.aws.ec2.instance(m.instanceId)?.state === 'running');
  const check = checkPairs(w.aws);
  if (check.inTransition > 0) left.push(`${check.inTransition} attachments in transition`);
  const holders = new Map(check.complete.map((p) => [p.instanceId, p]));
  const app = w.replicas[0]!.app;
  const claims = await app.controller.claims('etcd');
  const facts = (await app.adminApp.inject({ url: '/v1/facts' })).json<ClusterFacts>().groups.etcd?.nodes ?? {};
  const told = announcements(h);
  for (const m of members) {
    const pair = holders.get(m.instanceId);
    if (!pair) {
      left.push(`${m.instanceId} (${m.lifecycleState}) holds no whole pair`);
      continue;
    }
    const { nodeId, instanceId } = pair;
    const volume = w.aws.ec2.volume(pair.volumeIds[0]!)!;
    const eni = w.aws.ec2.networkInterface(pair.networkInterfaceIds[0]!)!;
    const claim = claims.find((c) => c.nodeId === nodeId);
    // The claim is written once and names its holder; that the pair is attached is EC2's word (issue 15: no second write).
    if (claim?.instanceId !== instanceId) left.push(`${nodeId} on ${instanceId}: claim ${JSON.stringify(claim && [claim.instanceId, claim.state])}`);
    if (volume.tags.get(HOLDER_TAG) !== instanceId || eni.tags.get(HOLDER_TAG) !== instanceId) left.push(`${nodeId} on ${instanceId}: not holder-tagged`);
    if (volume.tags.get(PREPARED_TAG) !== instanceId) left.push(`${nodeId} on ${instanceId}: not prepared`);
    if (facts[nodeId]?.instanceId !== instanceId) left.push(`${nodeId} on ${instanceId}: not in /v1/facts`);
    if (!told.some((e) => e.nodeId === nodeId && e.instanceId === instanceId)) left.push(`${nodeId} on ${instanceId}: pair.attached never reached the webhook`);
    if (m.lifecycleState === 'Pending' || m.lifecycleState === 'Pending:Wait') left.push(`${instanceId}: launch hook not completed (${m.lifecycleState})`);
  }
  const memberIds = new Set(members.map((m) => m.instanceId));
  for (const p of check.complete) if (!memberIds.has(p.instanceId)) left.push(`${p.nodeId} whole on ${p.instanceId}, not a running member`);
  for (const c of claims) if (holders.get(c.instanceId)?.nodeId !== c.nodeId) left.push(`claim of ${c.nodeId} by ${c.instanceId} holds no whole pair`);
  for (const p of w.seeded.pairs) {
    const free = !w.aws.ec2.volume(p.volumeId)!.attachment && !w.aws.ec2.networkInterface(p.eniId)!.attachment;
    if (free && !claims.some((c) => c.nodeId === p.nodeId) && w.aws.ec2.volume(p.volumeId)!.tags.has(HOLDER_TAG)) left.push(`${p.nodeId} is free but still holder-tagged`);
  }
  return left;
}

/** What is left of one pair and instance, in a line: claim, attachments, tags, hook, announcements. */
function stateOf(w: World, h: HookServer, at: { instanceId: string; nodeId: string }): string {
  const pair = w.seeded.pairs.find((p) => p.nodeId === at.nodeId)!;
  const volume = w.aws.ec2.volume(pair.volumeId)!;
  const eni = w.aws.ec2.networkInterface(pair.eniId)!;
  const claim = storedClaims(w)[at.nodeId];
  const on = (holder: string | undefined) => (holder === undefined ? 'free' : holder === at.instanceId ? 'on it' : `on ${holder}`);
  const parts = [
    `claim ${claim ? `${claim.instanceId === at.instanceId ? 'its' : claim.instanceId}, ${claim.state}` : 'none'}`,
    `volume ${on(volume.attachment?.instanceId)}`,
    `ENI ${on(eni.attachment?.instanceId)}`,
    `holder tag ${volume.tags.get(HOLDER_TAG) === at.instanceId ? 'yes' : 'no'}`,
    `prepared ${volume.tags.get(PREPARED_TAG) === at.instanceId ? 'yes' : 'no'}`,
    `told ${announcements(h).filter((e) => e.nodeId === at.nodeId && e.instanceId === at.instanceId).length}x`,
    `instance ${w.aws.ec2.instance(at.instanceId)?.state ?? 'unknown'}/${w.aws.autoScaling.memberOf(at.instanceId)?.member.lifecycleState ?? 'not a member'}`,
  ];
  return parts.join(', ');
}

type StoredClaim = { nodeId: string; instanceId: string; state: string };
const SSM_PREFIX = '/pairkeeper/etcd/';

function claimsConfig(w: World): { store: 'file' | 'ssm'; path: string } {
  return (JSON.parse(w.configText) as { claims: { store: 'file' | 'ssm'; path: string } }).claims;
}

function claimsFile(path: string): { version: 1; claims: Record<string, StoredClaim> } {
  return JSON.parse(readFileSync(path, 'utf8')) as { version: 1; claims: Record<string, StoredClaim> };
}

/** The claims as stored (by NodeID), read behind pairkeeper's back: the SSM parameters, or the claims file. */
function storedClaims(w: World): Record<string, StoredClaim> {
  const { store, path } = claimsConfig(w);
  if (store === 'ssm') {
    return Object.fromEntries(
      w.seeded.pairs.flatMap((p) => {
        const value = w.aws.ssm.parameters.get(SSM_PREFIX + p.nodeId)?.value;
        return value === undefined ? [] : [[p.nodeId, JSON.parse(value) as StoredClaim]];
      }),
    );
  }
  if (!existsSync(path)) return {};
  return Object.fromEntries(Object.values(claimsFile(path).claims).map((c) => [c.nodeId, c]));
}

/**
 * The claim store loses a claim behind pairkeeper's back. The file store reads its
 * file once, so the loss is seen by the next process: `restart` says whether the
 * test must start one for pairkeeper to notice.
 */
function loseClaim(w: World, nodeId: string): { restart: boolean } {
  const { store, path } = claimsConfig(w);
  if (store === 'ssm') {
    w.aws.ssm.parameters.delete(SSM_PREFIX + nodeId);
    return { restart: false };
  }
  const file = claimsFile(path);
  file.claims = Object.fromEntries(Object.entries(file.claims).filter(([, c]) => c.nodeId !== nodeId));
  writeFileSync(path, JSON.stringify(file));
  return { restart: true };
}

/** Waits until `app` has finished `count` resync runs (the start-up one first), and answers their actions. */
async function resyncRuns(app: App, count: number): Promise<string[]> {
  const runs = new Map<string, string>();
  await waitFor(
    () => {
      const last = app.controller.status().resync.last;
      if (last) runs.set(last.startedAt, JSON.stringify(Object.fromEntries(Object.entries(last.actions).filter(([, n]) => n > 0))));
      return runs.size >= count;
    },
    `${count} resync runs`,
    (count + 1) * RESYNC_SECONDS * 1000 + 10_000,
  );
  return [...runs.values()];
}

/** Waits until SNS, every replica's work and its notifications are done. */
async function quiet(w: World): Promise<void> {
  await w.aws.sns.idle();
  for (const r of w.replicas) {
    await r.app.controller.idle();
    await r.app.notifier.idle();
    await r.app.controller.idle();
  }
}

function scenarioOf(step: PairingStep): 'launch' | 'release' | 'adopt' {
  return RELEASE_STEPS.has(step) ? 'release' : ADOPT_STEPS.has(step) ? 'adopt' : 'launch';
}

for (const store of STORES) {
  describe(`a crash at each pairing step, ${store} claim store`, () => {
    // With a launch hook, and (for launch steps) without one: then the instance goes in service at once and only resync's plan can find the work left.
    const cases = PAIRING_STEPS.flatMap((step) => [
      { step, launchHook: true },
      ...(scenarioOf(step) === 'launch' && !HOOK_STEPS.has(step) ? [{ step, launchHook: false }] : []),
    ]);
    for (const { step, launchHook } of cases) {
      const scenario = scenarioOf(step);
      it(`${step} (${scenario}${launchHook ? ', launch hook' : ', no hook'})`, async (t: TestContext) => {
        const crashAt: CrashPoint = { step: scenario === 'launch' ? step : undefined, hit: undefined };
        const { w, hook: h, prepared } = await start(store, crashAt, { launchHook });
        const watch = watchInvariants(w.aws);
        w.aws.autoScaling.setDesiredCapacity('etcd', 2);
        let victim: { instanceId: string; nodeId: string } | undefined;
        if (scenario !== 'launch') {
          await waitFor(async () => (await unfinished(w, h)).length === 0 && checkPairs(w.aws).complete.length === 2, 'two finished pairs', 15_000);
          victim = checkPairs(w.aws).complete[0]!;
          crashAt.step = step;
          if (scenario === 'release') w.aws.autoScaling.terminateInstance(victim.instanceId, true);
          else if (loseClaim(w, victim.nodeId).restart) await w.restart(w.replicas[0]!);
          else await w.app.controller.resyncNow();
        }
        await waitFor(() => crashAt.hit !== undefined, `the ${scenario} scenario to reach step ${step} (a step no scenario reaches fails here)`, 15_000);
        const crashed = w.replicas[0]!;
        await crashed.kill();
        const left = stateOf(w, h, crashAt.hit!);
        const sentBeforeRestart = prepared.length;
        const fresh = await w.restart(crashed);
        const runs = await resyncRuns(fresh.app, 2);
        await quiet(w);
        assert.deepEqual(await unfinished(w, h), [], `after a crash at ${step}, the start-up resync and one more finish everything`);
        if (scenario === 'release') {
          const told = events(h, 'pair.released').filter((e) => e.nodeId === victim!.nodeId && e.instanceId === victim!.instanceId);
          assert.ok(told.length >= 1, `after a crash at ${step}, pair.released reached the webhook at least once`);
        }
        assert.deepEqual(toldUnderSeveralIds(h), [], `after a crash at ${step}, a fact told again carries the id it was first told with`);
        assert.deepEqual(watch.stop(), [], 'no invariant broke at any moment');
        assert.deepEqual(prepared.filter((p) => p.again), [], 'no volume prepared again on the instance it was recorded prepared on');
        t.diagnostic(`crash at ${step}: left ${left}; resync actions ${runs.join(' then ')}; now ${stateOf(w, h, crashAt.hit!)}; ${prepared.length} preparations, ${sentBeforeRestart} before the restart`);
      });
    }
  });
}

describe('a randomized run: crashes at random steps, SNS loss, duplicates and reordering, throttling storms, a queue of 3', () => {
  const FINAL_SIZE = 3;
  for (const { seed, store } of SEEDS) {
    it(`seed ${seed}, ${store} claim store`, async (t: TestContext) => {
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
      const crashAt: CrashPoint = { step: undefined, hit: undefined };
      const { w, hook: h, prepared } = await start(store, crashAt, { seed, config: { work: { queueLimit: 3 } } });
      const watch = watchInvariants(w.aws);
      w.aws.sns.chaos = { dropRate: 0.2, duplicateRate: 0.3, delayMs: [0, 60] };
      const script: string[] = [];
      for (let round = 0; round < 24; round++) {
        const roll = random();
        if (roll < 0.3) {
          const size = 2 + Math.floor(random() * 4);
          script.push(`desired ${size}`);
          w.aws.autoScaling.setDesiredCapacity('etcd', size);
        } else if (roll < 0.45) {
          const victim = pick(w.aws.ec2.instances().filter((i) => i.state === 'running' && w.aws.autoScaling.memberOf(i.instanceId)));
          if (victim) {
            script.push(`terminate ${victim.instanceId}`);
            w.aws.autoScaling.terminateInstance(victim.instanceId, false);
          }
        } else if (roll < 0.65) {
          const errorRate = 0.3 + random() * 0.5;
          script.push(`throttling storm ${errorRate.toFixed(2)}`);
          for (const action of STORM_ACTIONS) w.aws.faults.set('EC2', action, { errorRate, code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
        } else {
          // Armed until it strikes: the next time any instance reaches the step.
          crashAt.step = pick(PAIRING_STEPS);
          script.push(`crash armed at ${crashAt.step}`);
        }
        await new Promise((r) => setTimeout(r, 100 + random() * 300));
        w.aws.faults.clear();
        if (crashAt.hit) {
          script.push(`crashed at ${crashAt.hit.step} (${crashAt.hit.instanceId}), restarted`);
          await w.restart(w.replicas[0]!);
          Object.assign(crashAt, { step: undefined, hit: undefined });
        }
      }
      // The storm is over: no more crashes, losses or throttling, and the group settles at its final size.
      crashAt.step = undefined;
      if (crashAt.hit) {
        script.push(`crashed at ${crashAt.hit.step} (${crashAt.hit.instanceId}), restarted`);
        await w.restart(w.replicas[0]!);
      }
      w.aws.sns.chaos = { dropRate: 0, duplicateRate: 0, delayMs: [0, 0] };
      w.aws.autoScaling.setDesiredCapacity('etcd', FINAL_SIZE);
      t.diagnostic(`script: ${script.join('; ')}`);
      let left: string[] = [];
      const inService = () => [...w.aws.autoScaling.groups()[0]!.members.values()].filter((m) => m.lifecycleState === 'InService').length;
      await waitFor(async () => (left = await unfinished(w, h)).length === 0 && inService() === FINAL_SIZE, `convergence (script: ${script.join('; ')})`, 30_000).catch(
        (err: unknown) => {
          throw new Error(`${(err as Error).message}; left: ${left.join('; ')}`);
        },
      );
      assert.deepEqual(watch.stop(), [], 'no invariant broke at any moment');
      assert.deepEqual(prepared.filter((p) => p.again), [], 'no volume prepared again on the instance it was recorded prepared on');
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupMember, LifecycleHookInfo, LifecycleTransitionKind } from '../../src/domain/group-members.ts';
import { buildPairs } from '../../src/domain/inventory.ts';
import { HOLDER_TAG, type Attachment, type Claim, type EniInfo, type Pair, type VolumeInfo } from '../../src/domain/pairs.ts';
import { instancesToCheck, planResync } from '../../src/domain/resync-plan.ts';
import type { ResyncAction, ResyncInput, ResyncProblem, ResyncReport, WaitingMember } from '../../src/domain/resync-plan.ts';
import { seededRandom } from '../../fake-aws/random.ts';

const AZ = 'us-east-1a';
const OTHER_AZ = 'us-east-1b';

// Fixture builders, in the style of inventory.test.ts: pairs are built by buildPairs, the way the service builds them.

/** Where a half of a pair is: an instance id means attached there; `attaching(id)` is still on its way. */
type Holder = string | Attachment;

function attaching(instanceId: string): Attachment {
  return { instanceId, state: 'attaching' };
}

function attachment(holder: Holder | undefined): Attachment | undefined {
  return typeof holder === 'string' ? { instanceId: holder, state: 'attached' } : holder;
}

function volume(nodeId: string, holder?: Holder, extra: Partial<VolumeInfo> = {}): VolumeInfo {
  return {
    volumeId: `vol-${nodeId}`,
    availabilityZone: AZ,
    state: holder ? 'in-use' : 'available',
    tags: { NodeID: nodeId },
    attachment: attachment(holder),
    ...extra,
  };
}

function eni(nodeId: string, holder?: Holder, extra: Partial<EniInfo> = {}): EniInfo {
  return {
    networkInterfaceId: `eni-${nodeId}`,
    availabilityZone: AZ,
    status: holder ? 'in-use' : 'available',
    privateIpAddress: '10.0.0.1',
    tags: { NodeID: nodeId },
    attachment: attachment(holder),
    ...extra,
  };
}

function onePair(volumes: VolumeInfo[], enis: EniInfo[], condition: Pair['condition']): Pair {
  const [pair, ...rest] = buildPairs('g', 'NodeID', volumes, enis);
  assert.ok(pair && rest.length === 0);
  assert.equal(pair.condition, condition);
  return pair;
}

/** A usable pair; each half free unless a holder is given. */
function pair(nodeId: string, holders: { volume?: Holder; eni?: Holder } = {}): Pair {
  return onePair([volume(nodeId, holders.volume)], [eni(nodeId, holders.eni)], 'usable');
}

/** A usable pair with both halves attached to the instance and announced (the holder tag on both), as a finished launch leaves it. */
function whole(nodeId: string, instanceId: string): Pair {
  const announced = { [HOLDER_TAG]: instanceId, NodeID: nodeId };
  return onePair([volume(nodeId, instanceId, { tags: announced })], [eni(nodeId, instanceId, { tags: announced })], 'usable');
}

/** Whole on the instance, but stopped by a crash before it was announced (no holder tag). */
function wholeUnannounced(nodeId: string, instanceId: string): Pair {
  return pair(nodeId, { volume: instanceId, eni: instanceId });
}

/** Free, with the holder tag still naming its last holder: a crash came between its claim's release and the release's being told. */
function releasedUntold(nodeId: string, instanceId: string): Pair {
  const tags = { [HOLDER_TAG]: instanceId, NodeID: nodeId };
  return onePair([volume(nodeId, undefined, { tags })], [eni(nodeId, undefined, { tags })], 'usable');
}

/** A volume without an ENI. */
function incomplete(nodeId: string, holder?: Holder): Pair {
  return onePair([volume(nodeId, holder)], [], 'incomplete');
}

/** Volume and ENI in different AZs. */
function broken(nodeId: string): Pair {
  return onePair([volume(nodeId)], [eni(nodeId, undefined, { availabilityZone: OTHER_AZ })], 'broken');
}

function member(instanceId: string, lifecycleState: string): GroupMember {
  return { instanceId, availabilityZone: AZ, lifecycleState };
}

function hook(name: string, transition: LifecycleTransitionKind | undefined): LifecycleHookInfo {
  return { group: 'g', name, transition, heartbeatTimeoutSeconds: 3600, notificationTargetArn: 'arn:aws:sns:us-east-1:123456789012:pairkeeper' };
}

function claim(nodeId: string, instanceId: string, state: Claim['state'] = 'attached'): Claim {
  return { group: 'g', nodeId, instanceId, state, since: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' };
}

function report(problem: ResyncProblem, ids: { nodeId?: string; instanceId?: string }, detail: string): ResyncReport {
  return { problem, nodeId: ids.nodeId, instanceId: ids.instanceId, detail };
}

const LAUNCH = hook('pk-launch', 'launching');
const TERMINATE = hook('pk-terminate', 'terminating');

const pairAction = (instanceId: string, launchHooks: string[] = []): ResyncAction => ({ kind: 'pair', instanceId, launchHooks });
const adopt = (instanceId: string, nodeId: string): ResyncAction => ({ kind: 'adopt', instanceId, nodeId });
const release = (instanceId: string, nodeId: string): ResyncAction => ({ kind: 'release', instanceId, nodeId });
const continueTerminating = (instanceId: string, hooks: string[]): ResyncAction => ({ kind: 'continue-terminating', instanceId, hooks });

interface Case {
  name: string;
  members?: GroupMember[];
  hooks?: LifecycleHookInfo[];
  claims?: Claim[];
  pairs?: Pair[];
  /** EC2 states by instance; a value of undefined: EC2 does not know the instance. */
  ec2?: Record<string, string | undefined>;
  actions?: ResyncAction[];
  reports?: ResyncReport[];
  waiting?: WaitingMember[];
  prepares?: boolean;
}

function inputOf(c: Case): ResyncInput {
  return { members: c.members ?? [], hooks: c.hooks ?? [], claims: c.claims ?? [], pairs: c.pairs ?? [], ec2States: new Map(Object.entries(c.ec2 ?? {})), prepares: c.prepares ?? false };
}

const cases: Case[] = [
  { name: 'an empty group: nothing to do' },

  // Giving members their pairs.
  {
    name: 'an InService member with no claim and nothing attached gets a pair',
    members: [member('i-1', 'InService')],
    pairs: [pair('node-1')],
    actions: [pairAction('i-1')],
  },
  {
    name: 'an InService member whose claimed pair is whole on it: nothing to do',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1'), pair('node-2')],
  },
  {
    name: 'a whole, announced pair whose claim says "claimed": finished, since EC2 says attached and the claim is never marked (issue 15)',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [whole('node-1', 'i-1')],
    actions: [],
  },
  {
    name: 'a whole pair claimed as attached but never announced (a crash before the notification): pair, to announce (issue 13 #1)',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1')],
    pairs: [wholeUnannounced('node-1', 'i-1')],
    actions: [pairAction('i-1')],
  },
  {
    name: 'a whole, announced pair in a group that prepares, not prepared on its holder (a crash before preparing): pair, to prepare (issue 13 #1)',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1')],
    prepares: true,
    actions: [pairAction('i-1')],
  },
  {
    name: 'a claimed pair with the volume attached but not yet the ENI: pair, to finish',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [pair('node-1', { volume: 'i-1' })],
    actions: [pairAction('i-1')],
  },
  {
    name: 'volume and ENI still attaching are not whole: pair',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [pair('node-1', { volume: attaching('i-1'), eni: attaching('i-1') })],
    actions: [pairAction('i-1')],
  },
  {
    name: 'the volume attached and the ENI still attaching is not whole: pair',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [pair('node-1', { volume: 'i-1', eni: attaching('i-1') })],
    actions: [pairAction('i-1')],
  },
  {
    name: 'an "attached" claim whose ENI EC2 no longer shows on the instance: pair, to finish',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'attached')],
    pairs: [pair('node-1', { volume: 'i-1' })],
    actions: [pairAction('i-1')],
  },
  {
    name: 'a Pending:Wait member with our launching hook: pair, then complete only the launching hook',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [LAUNCH, TERMINATE],
    pairs: [pair('node-1')],
    actions: [pairAction('i-1', ['pk-launch'])],
  },
  {
    name: 'a Pending:Wait member already whole: still pair, to complete the hook',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [LAUNCH],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1')],
    actions: [pairAction('i-1', ['pk-launch'])],
  },
  {
    name: 'a Pending:Wait member and no hooks of ours: pair with no hooks to complete',
    members: [member('i-1', 'Pending:Wait')],
    pairs: [pair('node-1')],
    actions: [pairAction('i-1')],
  },
  {
    name: 'a Pending:Wait member already whole and no launching hook of ours: nothing to do',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [TERMINATE, hook('someone-elses', undefined)],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1')],
  },
  {
    name: 'a Pending member gets a pair; the launching hook is completed only in Pending:Wait',
    members: [member('i-1', 'Pending')],
    hooks: [LAUNCH],
    pairs: [pair('node-1')],
    actions: [pairAction('i-1')],
  },
  {
    name: 'Pending:Proceed, EnteringStandby and Standby members get pairs too, in member order',
    members: [member('i-3', 'Standby'), member('i-1', 'Pending:Proceed'), member('i-2', 'EnteringStandby')],
    hooks: [LAUNCH],
    pairs: [pair('node-1')],
    actions: [pairAction('i-3'), pairAction('i-1'), pairAction('i-2')],
  },

  // Members whose AZ has no pair to give: no task that could only say "no free pair" (it would take the queue from work that can move).
  {
    name: 'an InService member in an AZ with no free pair: waiting, no pair task',
    members: [member('i-1', 'InService'), member('i-2', 'InService')],
    claims: [claim('node-1', 'i-2')],
    pairs: [whole('node-1', 'i-2')],
    waiting: [{ instanceId: 'i-1', availabilityZone: AZ }],
  },
  {
    name: 'a member whose AZ has none free while another AZ has: waiting',
    members: [{ instanceId: 'i-1', availabilityZone: OTHER_AZ, lifecycleState: 'InService' }],
    pairs: [pair('node-1')],
    waiting: [{ instanceId: 'i-1', availabilityZone: OTHER_AZ }],
  },
  {
    name: 'no free pair, but this plan releases one in the AZ (its holder is gone): pair',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-9')],
    pairs: [whole('node-1', 'i-9')],
    ec2: { 'i-9': 'terminated' },
    actions: [release('i-9', 'node-1'), pairAction('i-1')],
  },
  {
    name: 'no free pair, but this plan drops a leftover claim in the AZ: pair',
    members: [member('i-1', 'InService'), member('i-2', 'InService')],
    claims: [claim('node-1', 'i-2'), claim('node-2', 'i-2', 'claimed')],
    pairs: [whole('node-1', 'i-2'), pair('node-2')],
    actions: [{ kind: 'drop-claim', instanceId: 'i-2', nodeId: 'node-2' }, pairAction('i-1')],
    reports: [report('leftover-claim', { nodeId: 'node-2', instanceId: 'i-2' }, 'i-2 holds node-1; its claim on node-2 is a leftover and is released')],
  },
  {
    name: 'the only pair left has its ENI on a gone instance (pairkeeper may detach that): pair',
    members: [member('i-1', 'InService')],
    pairs: [pair('node-1', { eni: 'i-9' })],
    ec2: { 'i-9': 'terminated' },
    actions: [pairAction('i-1')],
  },
  {
    name: 'the only pair left has its ENI on a running instance: waiting',
    members: [member('i-1', 'InService')],
    pairs: [pair('node-1', { eni: 'i-9' })],
    ec2: { 'i-9': 'running' },
    waiting: [{ instanceId: 'i-1', availabilityZone: AZ }],
    reports: [report('split-pair', { nodeId: 'node-1', instanceId: 'i-9' }, 'ENI on i-9, volume not attached')],
  },
  {
    name: 'a Pending:Wait member with no free pair: still pair, so its hook gets the no-pair result in time',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [LAUNCH],
    actions: [pairAction('i-1', ['pk-launch'])],
  },
  {
    name: 'Warmed:Stopped, Detached and Terminating:Proceed members get no pair',
    members: [member('i-1', 'Warmed:Stopped'), member('i-2', 'Detached'), member('i-3', 'Terminating:Proceed'), member('i-4', 'Terminating')],
    hooks: [LAUNCH],
    pairs: [pair('node-1')],
  },

  // Warm pools: an instance entering the pool is let go without a pair, and never waits for one.
  {
    name: 'a Warmed:Pending:Wait member held by our launch hook: continue-warm, no pair though one is free',
    members: [member('i-1', 'Warmed:Pending:Wait')],
    hooks: [LAUNCH, TERMINATE],
    pairs: [pair('node-1')],
    actions: [{ kind: 'continue-warm', instanceId: 'i-1', hooks: ['pk-launch'] }],
  },
  {
    name: 'a Warmed:Pending:Wait member without a launch hook of ours: nothing for it',
    members: [member('i-1', 'Warmed:Pending:Wait')],
    hooks: [TERMINATE],
    pairs: [pair('node-1')],
  },
  {
    name: 'a Warmed:Terminating:Wait member (the pool trimmed) with our terminating hook: continue-terminating',
    members: [member('i-1', 'Warmed:Terminating:Wait')],
    hooks: [LAUNCH, TERMINATE],
    pairs: [pair('node-1')],
    actions: [continueTerminating('i-1', ['pk-terminate'])],
  },

  // Terminating.
  {
    name: 'a Terminating:Wait member with our terminating hook: continue-terminating, and its claim stays while it runs',
    members: [member('i-1', 'Terminating:Wait')],
    hooks: [LAUNCH, TERMINATE],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1')],
    ec2: { 'i-1': 'running' },
    actions: [continueTerminating('i-1', ['pk-terminate'])],
  },
  {
    name: 'a Terminating:Wait member without a terminating hook of ours: nothing for it',
    members: [member('i-1', 'Terminating:Wait')],
    hooks: [LAUNCH],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1')],
    ec2: { 'i-1': 'running' },
  },

  // Releasing the claims of departed instances.
  ...(['terminated', 'shutting-down', undefined] as const).map(
    (state): Case => ({
      name: `a claim whose instance EC2 says is ${state ?? 'unknown to it'}: release`,
      claims: [claim('node-1', 'i-9')],
      pairs: [pair('node-1')],
      ec2: { 'i-9': state },
      actions: [release('i-9', 'node-1')],
    }),
  ),
  {
    name: 'a departed instance holding two claims: release both, in claim order',
    claims: [claim('node-2', 'i-9'), claim('node-1', 'i-9')],
    pairs: [pair('node-1'), pair('node-2')],
    ec2: { 'i-9': 'terminated' },
    actions: [release('i-9', 'node-2'), release('i-9', 'node-1')],
  },
  {
    name: 'a claim whose instance is missing from the EC2 states (unknown): no release',
    claims: [claim('node-1', 'i-9')],
    pairs: [pair('node-1')],
  },
  ...(['running', 'pending', 'stopping', 'stopped'] as const).map(
    (state): Case => ({
      name: `a claim of a ${state} instance outside the group, its pair whole on it: reported (issue 12), never released or detached`,
      claims: [claim('node-1', 'i-9')],
      pairs: [whole('node-1', 'i-9')],
      ec2: { 'i-9': state },
      reports: [report('held-outside-group', { nodeId: 'node-1', instanceId: 'i-9' }, 'claimed by and attached to i-9, which is not a member of the group')],
    }),
  ),
  {
    name: 'a released pair still on its terminated instance is not reported',
    claims: [claim('node-1', 'i-9')],
    pairs: [whole('node-1', 'i-9')],
    ec2: { 'i-9': 'terminated' },
    actions: [release('i-9', 'node-1')],
  },

  // Adopting a pair found whole on a member.
  {
    name: 'a pair whole on an InService member with no claim: adopt',
    members: [member('i-1', 'InService')],
    pairs: [whole('node-1', 'i-1')],
    actions: [adopt('i-1', 'node-1')],
  },
  {
    name: 'a pair whole on a Pending:Wait member with our hook and no claim: adopt, then pair to complete the hook',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [LAUNCH],
    pairs: [whole('node-1', 'i-1')],
    actions: [adopt('i-1', 'node-1'), pairAction('i-1', ['pk-launch'])],
  },
  {
    name: 'a pair only half attached to a member with no claim: adopt (as claimed), then pair to finish it',
    members: [member('i-1', 'InService')],
    pairs: [pair('node-1', { volume: 'i-1', eni: attaching('i-1') })],
    actions: [adopt('i-1', 'node-1'), pairAction('i-1')],
  },
  {
    name: 'a pair whole on a member but claimed by another running instance: claim-elsewhere, and no second pair for the member',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-2')],
    pairs: [whole('node-1', 'i-1')],
    ec2: { 'i-2': 'running' },
    reports: [report('claim-elsewhere', { nodeId: 'node-1', instanceId: 'i-2' }, 'claimed by i-2 but attached to i-1')],
  },
  {
    name: 'a claim on a pair attached to another member: claim-elsewhere; only the claimer, which has nothing attached, gets a pair action',
    members: [member('i-1', 'InService'), member('i-2', 'InService')],
    claims: [claim('node-1', 'i-2')],
    pairs: [whole('node-1', 'i-1')],
    actions: [pairAction('i-2')],
    reports: [report('claim-elsewhere', { nodeId: 'node-1', instanceId: 'i-2' }, 'claimed by i-2 but attached to i-1')],
  },
  {
    name: 'a claim on a pair whose ENI is left on a terminated instance is not claim-elsewhere',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [pair('node-1', { eni: 'i-9' })],
    ec2: { 'i-9': 'terminated' },
    actions: [pairAction('i-1')],
  },

  // Inconsistencies for a person.
  {
    name: 'ENI on one live member, volume on another: split-pair, and neither gets an action (a person decides)',
    members: [member('i-1', 'InService'), member('i-2', 'InService')],
    pairs: [pair('node-1', { volume: 'i-2', eni: 'i-1' })],
    reports: [report('split-pair', { nodeId: 'node-1', instanceId: 'i-1' }, 'ENI on i-1, volume on i-2')],
  },
  {
    name: 'ENI on a running instance, volume not attached: split-pair',
    claims: [claim('node-1', 'i-9')],
    pairs: [pair('node-1', { eni: 'i-9' })],
    ec2: { 'i-9': 'running' },
    reports: [
      report('held-outside-group', { nodeId: 'node-1', instanceId: 'i-9' }, 'claimed by and attached to i-9, which is not a member of the group'),
      report('split-pair', { nodeId: 'node-1', instanceId: 'i-9' }, 'ENI on i-9, volume not attached'),
    ],
  },
  {
    name: 'ENI left on a terminated instance with the volume free: no report',
    pairs: [pair('node-1', { eni: 'i-9' })],
    ec2: { 'i-9': 'terminated' },
  },
  {
    name: 'ENI on an instance of unknown state with the volume free: no report',
    pairs: [pair('node-1', { eni: 'i-9' })],
  },
  {
    name: 'a member with the volumes of two pairs: two-pairs',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1')],
    pairs: [whole('node-1', 'i-1'), incomplete('node-2', 'i-1')],
    reports: [report('two-pairs', { instanceId: 'i-1' }, 'i-1 has the volumes of node-1, node-2')],
  },
  {
    name: 'a member with two whole pairs and no claim: two-pairs, and no pair action (it would try to attach a third)',
    members: [member('i-1', 'InService')],
    pairs: [whole('node-1', 'i-1'), whole('node-2', 'i-1'), pair('node-3')],
    reports: [report('two-pairs', { instanceId: 'i-1' }, 'i-1 has the volumes of node-1, node-2')],
  },
  {
    name: 'a claim on a NodeID with no pair, held by a running instance outside the group: claim-without-pair',
    claims: [claim('node-7', 'i-9')],
    ec2: { 'i-9': 'running' },
    reports: [report('claim-without-pair', { nodeId: 'node-7', instanceId: 'i-9' }, 'i-9 holds a claim on node-7, which matches no volume or ENI')],
  },
  {
    name: 'a claim on a NodeID with no pair, held by a member: claim-without-pair, and no pair action (attaching cannot succeed)',
    members: [member('i-1', 'InService')],
    claims: [claim('node-7', 'i-1')],
    pairs: [pair('node-1')],
    reports: [report('claim-without-pair', { nodeId: 'node-7', instanceId: 'i-1' }, 'i-1 holds a claim on node-7, which matches no volume or ENI')],
  },
  {
    name: 'the same claim on a NodeID with no pair, its instance gone: release instead of a report',
    claims: [claim('node-7', 'i-9')],
    ec2: { 'i-9': 'terminated' },
    actions: [release('i-9', 'node-7')],
  },
  {
    name: 'a member claiming an incomplete pair: claim-on-unusable-pair, no pair action',
    members: [member('i-1', 'InService')],
    claims: [claim('node-3', 'i-1', 'claimed')],
    pairs: [incomplete('node-3'), pair('node-4')],
    reports: [report('claim-on-unusable-pair', { nodeId: 'node-3', instanceId: 'i-1' }, 'i-1 holds node-3, which is incomplete: no ENI with this NodeID')],
  },
  {
    name: 'a member claiming a broken pair: claim-on-unusable-pair, no pair action',
    members: [member('i-1', 'InService')],
    claims: [claim('node-3', 'i-1', 'claimed')],
    pairs: [broken('node-3')],
    reports: [report('claim-on-unusable-pair', { nodeId: 'node-3', instanceId: 'i-1' }, 'i-1 holds node-3, which is broken: volume in us-east-1a, ENI in us-east-1b')],
  },
  {
    name: 'a Pending:Wait member claiming a broken pair with our hook waiting: report, and pair only to complete the hook',
    members: [member('i-1', 'Pending:Wait')],
    hooks: [LAUNCH],
    claims: [claim('node-3', 'i-1', 'claimed')],
    pairs: [broken('node-3')],
    actions: [pairAction('i-1', ['pk-launch'])],
    reports: [report('claim-on-unusable-pair', { nodeId: 'node-3', instanceId: 'i-1' }, 'i-1 holds node-3, which is broken: volume in us-east-1a, ENI in us-east-1b')],
  },
  {
    name: 'a volume attached to a running non-member with no claim: held-outside-group',
    pairs: [whole('node-1', 'i-9')],
    ec2: { 'i-9': 'running' },
    reports: [report('held-outside-group', { nodeId: 'node-1', instanceId: 'i-9' }, 'attached to i-9, which is not a member of the group, with no claim')],
  },
  {
    name: 'a pair claimed by and attached to a running non-member (a forged or misdirected launch): held-outside-group, nothing detached',
    claims: [claim('node-1', 'i-9', 'attached')],
    pairs: [whole('node-1', 'i-9')],
    ec2: { 'i-9': 'running' },
    reports: [report('held-outside-group', { nodeId: 'node-1', instanceId: 'i-9' }, 'claimed by and attached to i-9, which is not a member of the group')],
  },
  {
    name: 'a leftover second claim of a member that holds another pair whole: reported and dropped, so the pair is not stranded (issue 13 #2)',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1'), claim('node-2', 'i-1', 'claimed')],
    pairs: [whole('node-1', 'i-1'), pair('node-2')],
    actions: [{ kind: 'drop-claim', instanceId: 'i-1', nodeId: 'node-2' }],
    reports: [report('leftover-claim', { nodeId: 'node-2', instanceId: 'i-1' }, 'i-1 holds node-1; its claim on node-2 is a leftover and is released')],
  },
  {
    name: 'a free pair still holder-tagged for an instance that holds neither it nor its claim: its release was not told, and is told now',
    pairs: [releasedUntold('node-1', 'i-9')],
    actions: [{ kind: 'tell-released', instanceId: 'i-9', nodeId: 'node-1' }],
  },
  {
    name: 'a pair a new member claimed and is attaching, the tag still naming the old holder: the old release is told, and the new member paired',
    members: [member('i-1', 'InService')],
    claims: [claim('node-1', 'i-1', 'claimed')],
    pairs: [onePair([volume('node-1', 'i-1', { tags: { NodeID: 'node-1', [HOLDER_TAG]: 'i-9' } })], [eni('node-1', attaching('i-1'), { tags: { NodeID: 'node-1', [HOLDER_TAG]: 'i-9' } })], 'usable')],
    actions: [{ kind: 'tell-released', instanceId: 'i-9', nodeId: 'node-1' }, pairAction('i-1')],
  },
  {
    name: 'a release under way (the claim of the gone holder still there, its tag too): released, not told twice',
    claims: [claim('node-1', 'i-9')],
    pairs: [releasedUntold('node-1', 'i-9')],
    ec2: { 'i-9': 'terminated' },
    actions: [{ kind: 'release', instanceId: 'i-9', nodeId: 'node-1' }],
  },
  {
    name: 'a volume attached to a terminated non-member with no claim: no report (AWS detaches it)',
    pairs: [whole('node-1', 'i-9')],
    ec2: { 'i-9': 'terminated' },
  },
];

describe('planResync', () => {
  for (const c of cases) {
    it(c.name, () => {
      const input = inputOf(c);
      // The fixture honours the input's contract: EC2 states only for instances the plan asks about.
      const asked = new Set(instancesToCheck(input.members, input.claims, input.pairs));
      for (const id of input.ec2States.keys()) assert.ok(asked.has(id), `fixture gives a state for ${id}, which instancesToCheck does not name`);

      assert.deepEqual(planResync(input), { actions: c.actions ?? [], reports: c.reports ?? [], waiting: c.waiting ?? [] });
    });
  }
});

describe('instancesToCheck', () => {
  it('names nothing for an empty group', () => {
    assert.deepEqual(instancesToCheck([], [], []), []);
  });

  it('names holders of claims and attachments that are not pairable members, sorted, once each', () => {
    const members = [member('i-1', 'InService'), member('i-2', 'Terminating:Wait'), member('i-3', 'Warmed:Stopped'), member('i-4', 'Pending:Wait')];
    const claims = [claim('node-1', 'i-1'), claim('node-2', 'i-9'), claim('node-3', 'i-2'), claim('node-6', 'i-7')];
    const pairs = [
      whole('node-1', 'i-1'),
      pair('node-2', { volume: 'i-9', eni: attaching('i-8') }),
      incomplete('node-4', 'i-2'),
      pair('node-5', { eni: 'i-9' }),
      pair('node-6', { volume: attaching('i-4') }),
      pair('node-7'),
    ];
    assert.deepEqual(instancesToCheck(members, claims, pairs), ['i-2', 'i-7', 'i-8', 'i-9']);
  });

  it('leaves out members that hold nothing, whatever their state', () => {
    assert.deepEqual(instancesToCheck([member('i-1', 'Warmed:Stopped'), member('i-2', 'InService')], [], [pair('node-1')]), []);
  });
});

// Property check over small random worlds.


const LIFECYCLE_STATES = [
  'Pending',
  'Pending:Wait',
  'Pending:Proceed',
  'InService',
  'EnteringStandby',
  'Standby',
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Detaching',
  'Detached',
  'Warmed:Pending:Wait',
  'Warmed:Terminating:Wait',
  'Warmed:Stopped',
  'Warmed:Running',
];
const PAIRABLE_STATES = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService', 'EnteringStandby', 'Standby']);
const EC2_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated', undefined];
const INSTANCES = ['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6'];
const NODE_IDS = ['node-1', 'node-2', 'node-3', 'node-4'];

/**
 * A small world: some members, our hooks, at most one claim per NodeID (the claim store's key), volumes and ENIs
 * attached here and there, and EC2 states for some of the instances instancesToCheck names (the rest unknown).
 */
function randomWorld(seed: number): ResyncInput {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const holder = (): Holder | undefined => (chance(0.4) ? undefined : chance(0.7) ? pick(INSTANCES) : attaching(pick(INSTANCES)));

  const members = INSTANCES.filter(() => chance(0.6)).map((id) => member(id, pick(LIFECYCLE_STATES)));
  const hooks = [LAUNCH, TERMINATE, hook('someone-elses', undefined)].filter(() => chance(0.5));
  const volumes: VolumeInfo[] = [];
  const enis: EniInfo[] = [];
  for (const nodeId of NODE_IDS) {
    // Mostly one of each; sometimes none or two (incomplete or broken pairs), sometimes in the other AZ.
    const count = () => (chance(0.8) ? 1 : pick([0, 2]));
    const volumeHolders = Array.from({ length: count() }, holder);
    for (const h of volumeHolders) volumes.push(volume(nodeId, h));
    // The ENI usually follows the volume, as pairkeeper attaches them.
    for (let i = count(); i > 0; i--) {
      enis.push(eni(nodeId, chance(0.6) ? volumeHolders[0] : holder(), chance(0.1) ? { availabilityZone: OTHER_AZ } : {}));
    }
  }
  const pairs = buildPairs('g', 'NodeID', volumes, enis);
  const claims = [...NODE_IDS, 'node-9'].filter(() => chance(0.5)).map((nodeId) => claim(nodeId, pick(INSTANCES), pick(['claimed', 'attached'] as const)));
  const ec2States = new Map<string, string | undefined>();
  for (const id of instancesToCheck(members, claims, pairs)) if (chance(0.85)) ec2States.set(id, pick(EC2_STATES));
  return { members, hooks, claims, pairs, ec2States };
}

describe('planResync over random worlds', () => {
  const SEEDS = Array.from({ length: 200 }, (_, i) => 1000 + i);

  it('never releases a pairable member or an instance EC2 says is pending, running, stopping or stopped', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed);
      const pairable = new Set(world.members.filter((m) => PAIRABLE_STATES.has(m.lifecycleState)).map((m) => m.instanceId));
      for (const action of planResync(world).actions) {
        if (action.kind !== 'release') continue;
        assert.ok(!pairable.has(action.instanceId), `seed ${seed}: released pairable member ${action.instanceId}`);
        const state = world.ec2States.get(action.instanceId);
        assert.ok(world.ec2States.has(action.instanceId), `seed ${seed}: released ${action.instanceId} of unknown state`);
        assert.ok(state === undefined || ['shutting-down', 'terminated'].includes(state), `seed ${seed}: released ${action.instanceId}, which is ${state}`);
      }
    }
  });

  it('never gives one instance two actions of the same kind (releases: one per claim)', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed);
      const seen = new Set<string>();
      for (const action of planResync(world).actions) {
        // A departed instance may hold several claims (the store is keyed by NodeID), and each must go.
        const key = action.kind === 'release' ? `release ${action.instanceId} ${action.nodeId}` : `${action.kind} ${action.instanceId}`;
        assert.ok(!seen.has(key), `seed ${seed}: twice ${key}`);
        seen.add(key);
      }
    }
  });

  it('never adopts a claimed NodeID, and pairs or adopts only for pairable members', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed);
      const claimed = new Set(world.claims.map((c) => c.nodeId));
      const pairable = new Set(world.members.filter((m) => PAIRABLE_STATES.has(m.lifecycleState)).map((m) => m.instanceId));
      for (const action of planResync(world).actions) {
        if (action.kind === 'adopt') assert.ok(!claimed.has(action.nodeId), `seed ${seed}: adopted claimed ${action.nodeId}`);
        if (action.kind === 'adopt' || action.kind === 'pair') assert.ok(pairable.has(action.instanceId), `seed ${seed}: ${action.kind} for ${action.instanceId}`);
      }
    }
  });

  it('builds worlds that reach every kind of action and report', () => {
    const kinds = new Set<string>();
    for (const seed of SEEDS) {
      const plan = planResync(randomWorld(seed));
      for (const a of plan.actions) kinds.add(a.kind);
      for (const r of plan.reports) kinds.add(r.problem);
    }
    assert.deepEqual(
      [...kinds].sort(),
      ['adopt', 'claim-elsewhere', 'claim-on-unusable-pair', 'claim-without-pair', 'continue-terminating', 'continue-warm', 'drop-claim', 'held-outside-group', 'leftover-claim', 'pair', 'release', 'split-pair', 'two-pairs'],
    );
  });
});

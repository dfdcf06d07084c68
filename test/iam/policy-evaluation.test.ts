import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedCall, RecordedResource } from '../../fake-aws/call-recorder.ts';
import type { FakeAws } from '../../fake-aws/index.ts';
import { evaluate, type Verdict } from '../../fake-aws/iam-evaluator.ts';
import { parseConfig } from '../../src/config/load.ts';
import { HOLDER_TAG } from '../../src/domain/pairs.ts';
import { iamPolicy } from '../../src/iam/policy.ts';
import { actionsTheCodeCalls } from '../helpers/code-aws-actions.ts';
import { settle } from '../helpers/settle.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { AZS, worldsClosedAfterEach, type World } from '../helpers/world.ts';

/**
 * The generated policy, evaluated against every call pairkeeper makes in a realistic
 * run: the local AWS records each call as IAM would see it (action, region, the
 * resources it touches with their tags at that moment, the request's tag keys), and
 * the evaluator decides each one with the policy generated from the very config the
 * run used. Then the calls a careless or hostile pairkeeper could make, built from the
 * recorded ones with one thing changed, must be denied.
 */
const newWorld = worldsClosedAfterEach();

/**
 * Scale out and in with launch and terminate hooks (heartbeats while the preparation
 * runs), volumes prepared through SSM, claims in Parameter Store, Auto Scaling's
 * messages read from an SQS queue, and a resync.
 */
async function run(): Promise<{ w: World; calls: readonly RecordedCall[]; verdict: (call: RecordedCall) => Verdict }> {
  const w = await newWorld({
    // The departed instance's ENI stays attached a while, so pairkeeper detaches it itself.
    fake: { recordCalls: true, autoScalingTiming: { msPerHookSecond: 50 }, ec2Timing: { attachDelayMs: 5, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 1000 } },
    pairs: { pairs: 3 },
    claims: 'ssm',
    intake: 'sqs-envelope',
    config: {
      groups: [
        {
          name: 'etcd',
          filters: 'Service=etcd',
          lifecycle: { noPairWaitSeconds: 0, heartbeatFraction: 0.001 },
          prepare: { mountPoint: '/var/lib/etcd', agentTimeoutSeconds: 5 },
        },
      ],
    },
  });
  // pairkeeper counts hook seconds as real ones: a heartbeat every 30 ms, while the agent takes 200 ms to pick the command up.
  const hook = { heartbeatTimeout: 30, notificationTargetArn: w.topicArn };
  w.aws.ssm.commands.pickupDelayMs = 200;
  w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', ...hook });
  w.aws.autoScaling.putLifecycleHook('etcd', { name: 'pk-terminate', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', ...hook });

  // ENI attachments that say DeleteOnTermination, which pairkeeper turns off (ModifyNetworkInterfaceAttribute).
  const attach = w.aws.ec2.attachNetworkInterface.bind(w.aws.ec2);
  w.aws.ec2.attachNetworkInterface = (options) => Object.assign(attach(options), { deleteOnTermination: true });

  // Deletes slower than half the visibility timeout: pairkeeper extends the message's visibility meanwhile.
  w.aws.faults.set('SQS', 'DeleteMessage', { latencyMs: 1200 });
  w.aws.autoScaling.setDesiredCapacity('etcd', 2);
  await settle(w, 2);
  await waitFor(() => w.aws.calls.calls().some((c) => c.action === 'sqs:ChangeMessageVisibility'), 'a visibility extension');
  w.aws.faults.clear();
  await waitFor(() => inService(w.aws) === 2, 'both instances in service');
  w.aws.autoScaling.setDesiredCapacity('etcd', 1);
  await waitFor(() => untagged(w) === 1, 'the departed instance to release its pair');
  w.aws.autoScaling.setDesiredCapacity('etcd', 2);
  await settle(w, 2);
  await waitFor(() => inService(w.aws) === 2, 'the replacement in service');
  await w.app.controller.resyncNow();

  const policy = iamPolicy(parseConfig(w.configText, 'world')).policy;
  return { w, calls: w.aws.calls.calls(), verdict: (call) => evaluate(policy, call) };
}

function inService(aws: FakeAws): number {
  return [...aws.autoScaling.groups().find((g) => g.name === 'etcd')!.members.values()].filter((m) => m.lifecycleState === 'InService').length;
}

/** Seeded volumes without a holder tag. */
function untagged(w: World): number {
  return w.seeded.pairs.filter((p) => !w.aws.ec2.volume(p.volumeId)!.tags.has(HOLDER_TAG)).length;
}

function resource(aws: FakeAws, kind: 'instance' | 'volume' | 'network-interface', id: string): RecordedResource {
  const found = kind === 'instance' ? aws.ec2.instance(id) : kind === 'volume' ? aws.ec2.volume(id) : aws.ec2.networkInterface(id);
  return { arn: `arn:aws:ec2:${aws.region}:${aws.accountId}:${kind}/${id}`, tags: Object.fromEntries(found!.tags) };
}

/** The first recorded call of an action: the real shape, to change one thing in. */
function first(calls: readonly RecordedCall[], action: string): RecordedCall {
  const call = calls.find((c) => c.action === action);
  assert.ok(call, `the run made a ${action} call`);
  return structuredClone(call);
}

/** The call with the resource of one kind (`:volume/`, `:instance/`…) swapped for another. */
function swapped(call: RecordedCall, kind: string, by: RecordedResource): RecordedCall {
  assert.ok(call.resources.some((r) => r.arn.includes(`:${kind}/`)), `${call.action} touches a ${kind}`);
  return { ...call, resources: call.resources.map((r) => (r.arn.includes(`:${kind}/`) ? by : r)) };
}

describe('the generated IAM policy, evaluated against the calls pairkeeper makes', () => {
  it('allows every call of a run with hooks, scale out and in, preparation and SSM claims, and denies what it must not', async () => {
    const { w, calls, verdict } = await run();

    // Every call allowed, on every resource it touches.
    const refused = calls.map((c) => ({ call: c, verdict: verdict(c) })).filter((x) => x.verdict.decision !== 'allowed');
    assert.deepEqual(refused.map((x) => ({ action: x.call.action, resources: x.verdict.resources })), [], 'every recorded call is allowed');
    const made = new Set(calls.map((c) => c.action));
    assert.deepEqual([...actionsTheCodeCalls()].filter((a) => !made.has(a)), [], 'the run made every kind of call the code can make');

    // Another service's pair (other filter tag) and another group's instance, as the fake's own records.
    const otherVolume = w.aws.ec2.createVolume({ availabilityZone: AZS[0]!, tags: { NodeID: 'zk-1', Service: 'zookeeper' } });
    const otherEni = w.aws.ec2.createNetworkInterface({ availabilityZone: AZS[0]!, tags: { NodeID: 'zk-1', Service: 'zookeeper' } });
    const otherInstance = w.aws.ec2.runInstance({ availabilityZone: AZS[0]!, tags: { 'aws:autoscaling:groupName': 'zookeeper' } });
    const strayInstance = w.aws.ec2.runInstance({ availabilityZone: AZS[0]!, tags: {} });
    const untaggedVolume = w.aws.ec2.createVolume({ availabilityZone: AZS[0]!, tags: { Service: 'etcd' } });
    const attachVolume = first(calls, 'ec2:AttachVolume');
    const attachEni = first(calls, 'ec2:AttachNetworkInterface');
    const deleteTags = first(calls, 'ec2:DeleteTags');
    const createTags = first(calls, 'ec2:CreateTags');
    const denied: [string, RecordedCall][] = [
      ['a volume of another service', swapped(attachVolume, 'volume', resource(w.aws, 'volume', otherVolume.volumeId))],
      ['a volume without the NodeID tag', swapped(attachVolume, 'volume', resource(w.aws, 'volume', untaggedVolume.volumeId))],
      ['an ENI of another service', swapped(attachEni, 'network-interface', resource(w.aws, 'network-interface', otherEni.networkInterfaceId))],
      ['a volume to an instance of another group', swapped(attachVolume, 'instance', resource(w.aws, 'instance', otherInstance.instanceId))],
      ['an ENI to an instance of no group', swapped(attachEni, 'instance', resource(w.aws, 'instance', strayInstance.instanceId))],
      [
        'detaching an ENI of another service',
        { ...first(calls, 'ec2:AttachNetworkInterface'), action: 'ec2:DetachNetworkInterface', resources: [resource(w.aws, 'instance', otherInstance.instanceId), resource(w.aws, 'network-interface', otherEni.networkInterfaceId)] },
      ],
      ['a DeleteTags without keys (it deletes every tag)', { ...deleteTags, requestKeys: {} }],
      ['deleting the NodeID tag', { ...deleteTags, requestKeys: { 'aws:TagKeys': ['NodeID'] } }],
      ['writing a tag that is not pairkeeper\'s', { ...createTags, requestKeys: { 'aws:TagKeys': [HOLDER_TAG, 'Service'], 'aws:RequestTag/Service': 'zookeeper' } }],
      ['tagging a volume of another service', swapped(createTags, 'volume', resource(w.aws, 'volume', otherVolume.volumeId))],
      ['preparing on an instance of another group', swapped(first(calls, 'ssm:SendCommand'), 'instance', resource(w.aws, 'instance', otherInstance.instanceId))],
      [
        'running another document',
        { ...first(calls, 'ssm:SendCommand'), resources: first(calls, 'ssm:SendCommand').resources.map((r) => (r.arn.includes(':document/') ? { arn: `arn:aws:ssm:${w.aws.region}::document/AWS-RunPowerShellScript`, tags: {} } : r)) },
      ],
      ['a parameter outside the claims prefix', { ...first(calls, 'ssm:GetParameter'), resources: [{ arn: `arn:aws:ssm:${w.aws.region}:${w.aws.accountId}:parameter/prod/db-password`, tags: {} }] }],
      ['a parameter beside the prefix (/pairkeeper-other)', { ...first(calls, 'ssm:PutParameter'), resources: [{ arn: `arn:aws:ssm:${w.aws.region}:${w.aws.accountId}:parameter/pairkeeper-other/x`, tags: {} }] }],
      [
        'completing a lifecycle action of another group',
        { ...first(calls, 'autoscaling:CompleteLifecycleAction'), resources: [{ arn: `arn:aws:autoscaling:${w.aws.region}:${w.aws.accountId}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/zookeeper`, tags: {} }] },
      ],
      ['reading EC2 in another region', { ...first(calls, 'ec2:DescribeVolumes'), region: 'eu-west-1' }],
      ['attaching in another region', { ...attachVolume, resources: attachVolume.resources.map((r) => ({ ...r, arn: r.arn.replace(w.aws.region, 'eu-west-1') })) }],
      ['an action pairkeeper never calls', { ...attachVolume, action: 'ec2:DetachVolume' }],
      ['receiving from another queue', { ...first(calls, 'sqs:ReceiveMessage'), resources: [{ arn: `arn:aws:sqs:${w.aws.region}:${w.aws.accountId}:someone-elses-queue`, tags: {} }] }],
      ['purging the intake queue', { ...first(calls, 'sqs:DeleteMessage'), action: 'sqs:PurgeQueue' }],
    ];
    for (const [what, call] of denied) {
      assert.equal(verdict(call).decision, 'implicitly denied', `${what}: ${JSON.stringify(verdict(call).resources)}`);
    }

    // Changing an attachment names its instance too: allowed for this group's pair, on this group's instance.
    const modify = first(calls, 'ec2:ModifyNetworkInterfaceAttribute');
    assert.equal(verdict(modify).decision, 'allowed');
    assert.equal(verdict(swapped(modify, 'instance', resource(w.aws, 'instance', otherInstance.instanceId))).decision, 'implicitly denied');
    assert.equal(verdict(swapped(modify, 'network-interface', resource(w.aws, 'network-interface', otherEni.networkInterfaceId))).decision, 'implicitly denied');
  });
});

/**
 * `pairkeeper pairs create` and `pairkeeper setup` as an operator runs them: child
 * processes against the local AWS, from an empty account (a group, nothing else) to
 * every instance of a scale-out paired; a second run changes nothing; a half-created
 * pair is completed; bad input exits 2 naming the problem before any change. Every
 * call the commands make is then evaluated against `iam-policy --for setup`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RecordedCall } from '../../fake-aws/call-recorder.ts';
import { clientConfigFor, clientsFor } from '../../fake-aws/clients.ts';
import { SQSClient } from '../../src/aws/sdk/sqs.js';
import { seedPairs } from '../../fake-aws/ec2/seed.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { buildApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { setupIamPolicy } from '../../src/iam/setup-policy.ts';
import { createLogger } from '../../src/logger.ts';
import { actionsTheSetupGatewayCalls } from '../helpers/code-aws-actions.ts';
import { evaluate } from '../../fake-aws/iam-evaluator.ts';
import { freePort } from '../helpers/free-port.ts';
import { LogSink } from '../helpers/log-sink.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
/** The operator's own credentials: their calls are told from pairkeeper's by this key. */
const OPERATOR_KEY = 'AKIAOPERATOROPERATOR';
const ROLE = 'arn:aws:iam::123456789012:role/asg-notify';
const ADMIN_TOKEN = 'status-token-0123456789';

let aws: FakeAws;
let dir: string;

async function pairkeeper(args: string[], config: string): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, ...aws.env(), AWS_ACCESS_KEY_ID: OPERATOR_KEY };
  const child = spawn(process.execPath, [CLI, ...args, '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, out, err };
}

/** A config file for the commands; `queueOnly`: no topic, the events come from a queue (fed raw or by EventBridge). */
function configFile(name: string, extra: { filters?: string; adminPort?: number; queueOnly?: boolean } = {}): { path: string; text: string } {
  const text = JSON.stringify({
    aws: { region: aws.region, pollIntervalMs: 10, attachTimeoutSeconds: 20 },
    admin: { host: '127.0.0.1', port: extra.adminPort ?? 8081, token: ADMIN_TOKEN },
    ...(extra.queueOnly
      ? { intake: { sqs: { queueUrl: `https://sqs.${aws.region}.amazonaws.com/${aws.accountId}/pairkeeper-events` } } }
      : { sns: { topicArns: [`arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper-test`], certHostPattern: '^localhost:\\d+$' } }),
    groups: [{ name: 'etcd', filters: extra.filters ?? 'Service=etcd,Env=test,tag-key=Team', lifecycle: { noPairWaitSeconds: 0 } }],
    claims: { store: 'file', path: join(dir, `${name}-claims.json`) },
    resync: { intervalSeconds: 3600 },
    log: { level: 'warn' },
  });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, text);
  return { path, text };
}

const pairsCreate = (nodes: string[]) => [
  'pairs', 'create', '--group', 'etcd', '--nodes', nodes.join(','), '--subnets', AZS.map((az) => aws.ec2.subnetFor(az)).join(','), '--size', '10', '--tag', 'Team=storage',
  '--security-groups', securityGroup(),
];

/** The ENIs' security group, made once. */
function securityGroup(): string {
  return (aws.ec2.securityGroups().find((g) => g.groupName === 'etcd') ?? aws.ec2.createSecurityGroup('etcd')).groupId;
}

/** Where the recorded calls stand now, to read what came after. */
const mark = () => aws.calls.calls().length;

/** Calls the operator's commands made since `from`. */
function operatorCalls(from = 0): RecordedCall[] {
  return aws.calls.calls().slice(from).filter((c) => c.accessKeyId === OPERATOR_KEY);
}

/** Their mutating ones (AWS names every read Describe*, List* or Get*). */
function operatorMutations(from: number): string[] {
  return operatorCalls(from)
    .map((c) => c.action)
    .filter((a) => !/:(Describe|List|Get)[A-Z]/.test(a));
}

async function startPairkeeper(config: string): Promise<{ app: App; snsUrl: string }> {
  const parsed = parseConfig(config, 'test');
  const sqs = parsed.intake.sqs ? { sqs: new SQSClient(clientConfigFor(aws.url, aws.region)) } : {};
  const app = await buildApp({ config: parsed, logger: createLogger('warn', new LogSink()), clients: clientsFor(aws.url, aws.region), ...sqs });
  await app.publicApp.listen({ host: '127.0.0.1', port: 0 });
  await app.adminApp.listen({ host: '127.0.0.1', port: (JSON.parse(config) as { admin: { port: number } }).admin.port });
  return { app, snsUrl: `http://127.0.0.1:${(app.publicApp.server.address() as AddressInfo).port}/sns` };
}

before(async () => {
  aws = await startFakeAws({ recordCalls: true, ec2Timing: { attachDelayMs: 5, launchDelayMs: 5, terminateDelayMs: 5, releaseDelayMs: 5, createDelayMs: 5 } });
  aws.sns.policy = { retries: 3, retryDelayMs: 50, timeoutMs: 2000 };
  dir = mkdtempSync(join(tmpdir(), 'pk-setup-'));
});
after(() => aws.close());

describe('pairs create and setup, from an empty account', () => {
  let app: App | undefined;
  after(() => app?.close());

  it('plans first, then creates the pairs, the topic, subscription, notifications and hook; a scale-out pairs every instance; a second run changes nothing', async () => {
    aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: AZS, minSize: 0, maxSize: 3, desiredCapacity: 0 });
    const { path, text } = configFile('empty', { adminPort: await freePort() });
    const nodes = ['etcd-1', 'etcd-2', 'etcd-3'];

    let from = mark();
    const planned = await pairkeeper(pairsCreate(nodes), path);
    assert.equal(planned.code, 0, planned.err);
    assert.match(planned.out, /tags NodeID=<NodeID>, Team=storage, Service=etcd, Env=test/);
    assert.match(planned.out, /create volume for etcd-2 in us-east-1b \(gp3, 10 GiB\)/);
    assert.match(planned.out, /Calls: ec2:CreateVolume ×3, ec2:CreateNetworkInterface ×3/);
    assert.match(planned.out, /Plan only: nothing changed/);
    assert.deepEqual(operatorMutations(from), [], 'the plan changes nothing');
    assert.equal(aws.ec2.volumes().length, 0);

    from = mark();
    const created = await pairkeeper([...pairsCreate(nodes), '--apply'], path);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /done {4}created volume vol-\w+ for etcd-1 in us-east-1a/);
    assert.match(created.out, /NODEID/, 'it ends with the pairs table');
    assert.deepEqual(operatorMutations(from).sort(), [...Array<string>(3).fill('ec2:CreateNetworkInterface'), ...Array<string>(3).fill('ec2:CreateVolume')]);
    for (const [i, node] of nodes.entries()) {
      const volume = aws.ec2.volumes().find((v) => v.tags.get('NodeID') === node)!;
      const eni = aws.ec2.networkInterfaces().find((e) => e.tags.get('NodeID') === node)!;
      assert.deepEqual([volume.availabilityZone, eni.availabilityZone], [AZS[i], AZS[i]], `${node} round-robin over the subnets`);
      assert.deepEqual(Object.fromEntries(volume.tags), { NodeID: node, Team: 'storage', Service: 'etcd', Env: 'test' });
      assert.deepEqual(eni.securityGroupIds, [securityGroup()]);
    }

    // pairkeeper runs, so that it can confirm the subscription setup makes.
    const started = await startPairkeeper(text);
    app = started.app;
    const setupArgs = ['setup', '--endpoint', started.snsUrl, '--role-arn', ROLE];
    from = mark();
    const noRole = await pairkeeper(['setup', '--endpoint', started.snsUrl], path);
    assert.equal(noRole.code, 2, 'a new hook needs the role');
    assert.match(noRole.err, /--role-arn/);
    const setupPlan = await pairkeeper(setupArgs, path);
    assert.equal(setupPlan.code, 0, setupPlan.err);
    assert.match(setupPlan.out, /create topic pairkeeper-test {2}\(sns:CreateTopic\)/);
    assert.match(setupPlan.out, /add launch hook pairkeeper-launch to group etcd \(heartbeat 300 s, default result ABANDON\)/);
    assert.deepEqual(operatorMutations(from), []);

    from = mark();
    const applied = await pairkeeper([...setupArgs, '--apply'], path);
    assert.equal(applied.code, 0, applied.err);
    assert.deepEqual(operatorMutations(from), ['sns:CreateTopic', 'sns:Subscribe', 'autoscaling:PutNotificationConfiguration', 'autoscaling:PutLifecycleHook']);
    const topicArn = `arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper-test`;
    await waitFor(() => aws.sns.listSubscriptions().some((s) => s.topicArn === topicArn && s.confirmed), 'pairkeeper to confirm the subscription');
    const group = aws.autoScaling.groups().find((g) => g.name === 'etcd')!;
    assert.deepEqual(
      [...group.hooks.values()].map((h) => [h.name, h.transition, h.notificationTargetArn, h.roleArn, h.heartbeatTimeout, h.defaultResult]),
      [['pairkeeper-launch', 'autoscaling:EC2_INSTANCE_LAUNCHING', topicArn, ROLE, 300, 'ABANDON']],
    );
    assert.equal(group.notifications.get(topicArn)?.size, 5);

    aws.autoScaling.setDesiredCapacity('etcd', 3);
    await waitFor(() => [...group.members.values()].filter((m) => m.lifecycleState === 'InService').length === 3, 'three instances in service', 20_000);
    const holders = aws.ec2.volumes().map((v) => v.attachment?.instanceId);
    assert.deepEqual(new Set(holders), new Set(group.members.keys()), 'every instance holds a pair');

    await started.app.controller.resyncNow();
    const status = await pairkeeper(['status'], path);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /: ready\n/);
    assert.match(status.out, /group etcd\n {2}members {2}3 InService\n {2}pairs {4}us-east-1a: 1 attached\n/);

    from = mark();
    for (const args of [pairsCreate(nodes), setupArgs]) {
      const again = await pairkeeper([...args, '--apply'], path);
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /Nothing to change\./);
    }
    assert.deepEqual(operatorMutations(from), [], 'a second run of both makes no mutating call');

    // Every call the commands made, evaluated against the setup policy for this config.
    const policy = setupIamPolicy(parseConfig(text, 'test')).policy;
    const calls = operatorCalls();
    const refused = calls.filter((c) => evaluate(policy, c).decision !== 'allowed');
    assert.deepEqual(refused.map((c) => [c.action, evaluate(policy, c).resources]), []);
    const made = new Set(calls.map((c) => c.action));
    assert.deepEqual([...actionsTheSetupGatewayCalls()].filter((a) => !made.has(a) && !a.startsWith('sqs:')), [], 'the runs made every call the setup gateway can make (the queue\'s: below)');

    // What the policy must refuse, each a recorded call with one thing changed.
    const first = (action: string) => structuredClone(calls.find((c) => c.action === action)!);
    const createVolume = first('ec2:CreateVolume');
    const withoutNodeId = Object.fromEntries(Object.entries(createVolume.requestKeys).filter(([k]) => k !== 'aws:RequestTag/NodeID'));
    const denied: [string, RecordedCall][] = [
      ['a volume without the NodeID tag', { ...createVolume, requestKeys: withoutNodeId }],
      ['a volume another group\'s filters select', { ...createVolume, requestKeys: { ...createVolume.requestKeys, 'aws:RequestTag/Service': 'zookeeper' } }],
      ['an ENI in another region', { ...first('ec2:CreateNetworkInterface'), region: 'eu-west-1', resources: first('ec2:CreateNetworkInterface').resources.map((r) => ({ ...r, arn: r.arn.replace(aws.region, 'eu-west-1') })) }],
      ['tagging outside a create call', { action: 'ec2:CreateTags', region: aws.region, resources: [{ arn: `arn:aws:ec2:${aws.region}:${aws.accountId}:volume/vol-1`, tags: {} }], requestKeys: { 'aws:TagKeys': ['NodeID'] } }],
      ['a hook on another group', { ...first('autoscaling:PutLifecycleHook'), resources: [{ arn: `arn:aws:autoscaling:${aws.region}:${aws.accountId}:autoScalingGroup:x:autoScalingGroupName/other`, tags: {} }] }],
      ['subscribing to another topic', { ...first('sns:Subscribe'), resources: [{ arn: `arn:aws:sns:${aws.region}:${aws.accountId}:other`, tags: {} }] }],
      ['deleting a volume', { ...createVolume, action: 'ec2:DeleteVolume' }],
    ];
    for (const [what, call] of denied) assert.equal(evaluate(policy, call).decision, 'implicitly denied', what);
    // Tags in a create call are authorized as ec2:CreateTags too, with the create action named.
    const tagOnCreate: RecordedCall = { ...createVolume, action: 'ec2:CreateTags', requestKeys: { ...createVolume.requestKeys, 'ec2:CreateAction': 'CreateVolume' } };
    assert.equal(evaluate(policy, tagOnCreate).decision, 'allowed');
  });
});

describe('setup with a queue (intake.sqs): the topic feeds it', () => {
  let app: App | undefined;
  after(() => app?.close());

  /** A config whose events come through the topic into the queue, for group `queued`. */
  function queueConfig(name: string, queueUrl: string): { path: string; text: string } {
    const config = JSON.parse(configFile(name, { filters: 'Service=queued' }).text) as Record<string, unknown> & { groups: { name: string }[] };
    config.groups[0]!.name = 'queued';
    config.sns = { topicArns: [`arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper-queued`], certHostPattern: '^localhost:\\d+$' };
    config.intake = { sqs: { queueUrl, waitTimeSeconds: 1 } };
    const text = JSON.stringify(config);
    const path = join(dir, `${name}-queued.json`);
    writeFileSync(path, text);
    return { path, text };
  }

  it('lets the topic send to the queue (keeping the queue\'s own statements), subscribes it, and a launch is paired through it; a second run changes nothing', async () => {
    aws.autoScaling.createGroup({ name: 'queued', availabilityZones: [AZS[0]!], minSize: 0, maxSize: 1, desiredCapacity: 0 });
    seedPairs(aws.ec2, { azs: [AZS[0]!], pairs: 1, tags: { Service: 'queued' } });
    const operatorStatement = { Sid: 'consumers', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${aws.accountId}:root` }, Action: 'sqs:ReceiveMessage', Resource: '*' };
    const start = mark();
    const queue = aws.sqs.createQueue('pk-events', { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [operatorStatement] }) });
    const { path, text } = queueConfig('queue', aws.sqs.urlOf(queue));
    const topicArn = `arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper-queued`;

    let from = mark();
    const planned = await pairkeeper(['setup', '--role-arn', ROLE], path);
    assert.equal(planned.code, 0, planned.err);
    assert.match(planned.out, new RegExp(`change {2}let ${topicArn} send to queue ${queue.arn} \\(statement pairkeeper-sns-delivery of its policy; its other statements kept\\) {2}\\(sqs:SetQueueAttributes\\)`));
    assert.match(planned.out, new RegExp(`change {2}subscribe queue ${queue.arn} to ${topicArn} {2}\\(sns:Subscribe\\)`));
    assert.deepEqual(operatorMutations(from), []);

    from = mark();
    const applied = await pairkeeper(['setup', '--role-arn', ROLE, '--apply'], path);
    assert.equal(applied.code, 0, applied.err);
    // The policy before the subscription: no message is published to a queue that would refuse it.
    assert.deepEqual(operatorMutations(from), ['sns:CreateTopic', 'sqs:SetQueueAttributes', 'sns:Subscribe', 'autoscaling:PutNotificationConfiguration', 'autoscaling:PutLifecycleHook']);
    const policy = JSON.parse(queue.attributes.get('Policy')!) as { Statement: unknown[] };
    assert.deepEqual(policy.Statement, [
      operatorStatement,
      { Sid: 'pairkeeper-sns-delivery', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queue.arn, Condition: { ArnEquals: { 'aws:SourceArn': [topicArn] } } },
    ]);
    assert.deepEqual(
      aws.sns.listSubscriptions().filter((s) => s.topicArn === topicArn).map((s) => [s.protocol, s.endpoint, s.rawMessageDelivery, s.confirmed]),
      [['sqs', queue.arn, false, true]],
      'the queue alone, with the signed envelope',
    );

    from = mark();
    const again = await pairkeeper(['setup', '--role-arn', ROLE, '--apply'], path);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, new RegExp(`ok {6}queue ${queue.arn} lets ${topicArn} send to it`));
    assert.match(again.out, new RegExp(`ok {6}subscription of queue ${queue.arn}`));
    assert.match(again.out, /Nothing to change\./);
    assert.deepEqual(operatorMutations(from), []);

    // No HTTP subscription: the launch reaches pairkeeper through the queue only.
    app = (await startPairkeeper(text)).app;
    aws.autoScaling.setDesiredCapacity('queued', 1);
    const group = aws.autoScaling.groups().find((g) => g.name === 'queued')!;
    await waitFor(() => [...group.members.values()].some((m) => m.lifecycleState === 'InService'), 'the instance in service, its hook completed by pairkeeper', 20_000);
    const [instanceId] = group.members.keys();
    assert.equal(aws.ec2.volumes().find((v) => v.tags.get('Service') === 'queued')?.attachment?.instanceId, instanceId);

    const setupPolicy = setupIamPolicy(parseConfig(text, 'test')).policy;
    const calls = operatorCalls(start);
    const queueCalls = calls.filter((c) => c.action.startsWith('sqs:'));
    assert.deepEqual(calls.filter((c) => evaluate(setupPolicy, c).decision !== 'allowed').map((c) => [c.action, evaluate(setupPolicy, c).resources]), []);
    assert.deepEqual(
      [...actionsTheSetupGatewayCalls()].filter((a) => a.startsWith('sqs:') && !queueCalls.some((c) => c.action === a)),
      [],
      'the runs made every queue call the setup gateway can make',
    );
    const setAttributes = structuredClone(queueCalls.find((c) => c.action === 'sqs:SetQueueAttributes')!);
    const otherQueue = { ...setAttributes, resources: [{ arn: queue.arn.replace('pk-events', 'someone-elses'), tags: {} }] };
    assert.equal(evaluate(setupPolicy, otherQueue).decision, 'implicitly denied', 'another queue\'s policy');
  });

  it('stops before any change on a queue it cannot fix: of another account (before any call), missing, or encrypted with the AWS managed key; warns of a customer managed key and of Deny statements', async () => {
    const cases: [string, string, 1 | 2, RegExp][] = [
      ['other-account', `${aws.sqs.endpoint}/210987654321/pk-events`, 2, /queue .*210987654321\/pk-events is of account 210987654321, the topic .* of 123456789012: setup subscribes a queue of the topic's account only/],
      ['missing', `${aws.sqs.endpoint}/${aws.accountId}/no-such-queue`, 1, /no SQS queue .*no-such-queue \(intake\.sqs\.queueUrl\): create it first/],
      ['managed-key', aws.sqs.urlOf(aws.sqs.createQueue('pk-managed-key', { KmsMasterKeyId: 'alias/aws/sqs' })), 1, /encrypted with the AWS managed key alias\/aws\/sqs, which SNS cannot use/],
    ];
    for (const [name, queueUrl, exit, message] of cases) {
      const from = mark();
      const { code, err } = await pairkeeper(['setup', '--role-arn', ROLE, '--apply'], queueConfig(name, queueUrl).path);
      assert.equal(code, exit, `${name}: ${err}`);
      assert.match(err, message);
      if (exit === 2) assert.deepEqual(operatorCalls(from), [], name);
      else assert.deepEqual(operatorMutations(from), [], name);
    }
    const denyOthers = { Sid: 'only-tls', Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
    const customerKey = aws.sqs.urlOf(aws.sqs.createQueue('pk-customer-key', { KmsMasterKeyId: 'alias/pairkeeper', Policy: JSON.stringify({ Statement: [denyOthers] }) }));
    const { code, out } = await pairkeeper(['setup', '--role-arn', ROLE], queueConfig('customer-key', customerKey).path);
    assert.equal(code, 0);
    assert.match(out, /warning queue .*pk-customer-key is encrypted with KMS key alias\/pairkeeper: its key policy must let sns\.amazonaws\.com use it/);
    assert.match(out, /warning queue .*pk-customer-key: its policy has Deny statements; setup does not check them against SNS's delivery/);
  });
});

describe('pairs create and setup refuse, and complete', () => {
  it('bad input exits 2 naming the problem, before any call (a subnet EC2 does not know: before any change)', async () => {
    const { path } = configFile('bad');
    const unsatisfiable = configFile('az-filter', { filters: 'Service=etcd,availability-zone=us-east-1a' }).path;
    const queueOnly = configFile('queue-only', { queueOnly: true }).path;
    const subnets = aws.ec2.subnetFor(AZS[0]!);
    const cases: [string[], string, RegExp, 'no call' | 'no change'][] = [
      [['pairs', 'create', '--group', 'nope', '--nodes', 'n-1', '--subnets', subnets, '--size', '1'], path, /no group nope in the config/, 'no call'],
      [['pairs', 'create', '--group', 'etcd', '--nodes', 'good-1,bad id,-x', '--subnets', subnets, '--size', '1'], path, /invalid NodeID "bad id", "-x"/, 'no call'],
      [['pairs', 'create', '--group', 'etcd', '--nodes', 'n-1', '--subnets', subnets, '--size', '1'], unsatisfiable, /filter availability-zone=us-east-1a is not a tag/, 'no call'],
      [['pairs', 'create', '--group', 'etcd', '--nodes', 'n-1', '--subnets', subnets, '--size', '1', '--tag', 'Service=zk'], path, /filter tag:Service=etcd does not match --tag Service=zk/, 'no call'],
      [['pairs', 'create', '--group', 'etcd', '--count', '2', '--subnets', subnets, '--size', '1'], path, /--count and --prefix go together/, 'no call'],
      [['pairs', 'create', '--group', 'etcd', '--nodes', 'n-1', '--subnets', 'subnet-0123456789abcdef0', '--size', '1', '--tag', 'Team=x'], path, /subnet subnet-0123456789abcdef0: EC2 does not know it in us-east-1/, 'no change'],
      [['pairs', 'create', '--group', 'etcd', '--nodes', 'n-1', '--subnets', subnets, '--size', '1', '--tag', 'Team=x', '--security-groups', 'sg-0123456789abcdef0'], path, /security group sg-0123456789abcdef0: EC2 does not know it in us-east-1/, 'no change'],
      [['setup', '--topic-name', 'elsewhere'], path, /--topic-name elsewhere: not in sns.topicArns/, 'no call'],
      [['setup'], queueOnly, /sns\.topicArns is empty: setup makes Auto Scaling notify an SNS topic/, 'no call'],
      [['setup', '--endpoint', 'ftp://x/sns'], path, /--endpoint ftp:\/\/x\/sns/, 'no call'],
      [['setup', '--hook-heartbeat', '10'], path, /30 to 7200 seconds/, 'no call'],
    ];
    for (const [args, config, message, promise] of cases) {
      const from = mark();
      const { code, out, err } = await pairkeeper(args, config);
      assert.equal(code, 2, `${args.join(' ')}: ${err}`);
      assert.match(err, message);
      assert.equal(out, '');
      if (promise === 'no call') assert.deepEqual(operatorCalls(from), [], args.join(' '));
      else assert.deepEqual(operatorMutations(from), [], args.join(' '));
    }
  });

  it('pairs create needs no topic: with the events from a queue alone it plans the pairs', async () => {
    const { code, out, err } = await pairkeeper(pairsCreate(['queue-1']), configFile('queue-only-pairs', { queueOnly: true }).path);
    assert.equal(code, 0, err);
    assert.match(out, /queue-1/);
  });

  it('completes a half-created pair (volume only) in its AZ, and never duplicates it', async () => {
    const { path } = configFile('half', { filters: 'Service=half' });
    const volume = aws.ec2.createVolume({ availabilityZone: AZS[1]!, tags: { NodeID: 'half-2', Service: 'half' } });
    const args = ['pairs', 'create', '--group', 'etcd', '--count', '2', '--prefix', 'half-', '--subnets', AZS.map((az) => aws.ec2.subnetFor(az)).join(','), '--size', '5', '--apply'];
    const first = await pairkeeper(args, path);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, new RegExp(`ok {6}half-2  volume ${volume.volumeId} in us-east-1b`));
    const parts = (node: string) => ({
      volumes: aws.ec2.volumes().filter((v) => v.tags.get('NodeID') === node).map((v) => v.availabilityZone),
      enis: aws.ec2.networkInterfaces().filter((e) => e.tags.get('NodeID') === node).map((e) => e.availabilityZone),
    });
    assert.deepEqual(parts('half-2'), { volumes: [AZS[1]], enis: [AZS[1]] }, 'the ENI joins its volume\'s AZ');
    assert.deepEqual(parts('half-1'), { volumes: [AZS[0]], enis: [AZS[0]] });
    const from = mark();
    assert.match((await pairkeeper(args, path)).out, /Nothing to change/);
    assert.deepEqual(operatorMutations(from), []);
  });

  it('setup stops before any change on what it cannot fix: a group that does not exist, a hook of its name aimed elsewhere', async () => {
    const missing = JSON.parse(configFile('blocked').text) as { groups: { name: string }[] };
    missing.groups[0]!.name = 'ghost';
    const ghost = join(dir, 'ghost.json');
    writeFileSync(ghost, JSON.stringify(missing));
    let from = mark();
    const noGroup = await pairkeeper(['setup', '--role-arn', ROLE, '--apply'], ghost);
    assert.equal(noGroup.code, 1);
    assert.match(noGroup.err, /no Auto Scaling group ghost in us-east-1/);
    assert.deepEqual(operatorMutations(from), []);

    aws.autoScaling.createGroup({ name: 'hooked', availabilityZones: AZS, maxSize: 6 });
    aws.autoScaling.putLifecycleHook('hooked', { name: 'pairkeeper-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', notificationTargetArn: `arn:aws:sns:${aws.region}:${aws.accountId}:someone-else` });
    missing.groups[0]!.name = 'hooked';
    writeFileSync(ghost, JSON.stringify(missing));
    from = mark();
    const elsewhere = await pairkeeper(['setup', '--role-arn', ROLE, '--apply'], ghost);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.err, /hook pairkeeper-launch notifies arn:aws:sns:us-east-1:123456789012:someone-else/);
    assert.deepEqual(operatorMutations(from), []);
  });

  it('setup finishes what is half there: adds the missing notification types, keeps a hook of another name aimed at the topic, updates it without asking for the role again', async () => {
    const topicArn = aws.sns.createTopic('pairkeeper-test');
    aws.autoScaling.createGroup({ name: 'partial', availabilityZones: AZS, maxSize: 0 });
    aws.autoScaling.putNotificationConfiguration('partial', topicArn, ['autoscaling:EC2_INSTANCE_LAUNCH', 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR']);
    aws.autoScaling.putLifecycleHook('partial', { name: 'pk-hook', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 600, notificationTargetArn: topicArn });
    const config = JSON.parse(configFile('partial').text) as { groups: { name: string }[] };
    config.groups[0]!.name = 'partial';
    const path = join(dir, 'partial-group.json');
    writeFileSync(path, JSON.stringify(config));

    let from = mark();
    const first = await pairkeeper(['setup', '--hook-heartbeat', '600', '--apply'], path);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /ok {6}group partial has launch hook pk-hook \(heartbeat 600 s\)/);
    assert.deepEqual(operatorMutations(from), ['autoscaling:PutNotificationConfiguration']);
    const group = aws.autoScaling.groups().find((g) => g.name === 'partial')!;
    assert.equal(group.notifications.get(topicArn)?.size, 5);
    assert.deepEqual([...group.hooks.keys()], ['pk-hook'], 'no second hook beside the one aimed at the topic');

    from = mark();
    const longer = await pairkeeper(['setup', '--hook-heartbeat', '900', '--apply'], path);
    assert.equal(longer.code, 0, longer.err);
    assert.match(longer.out, /set hook pk-hook of group partial to a 900 s heartbeat \(was 600 s\)/);
    assert.deepEqual(operatorMutations(from), ['autoscaling:PutLifecycleHook']);
    assert.equal(group.hooks.get('pk-hook')?.heartbeatTimeout, 900);
  });

  it('setup warns when an AZ has fewer pairs than the group may run there', async () => {
    aws.autoScaling.createGroup({ name: 'short', availabilityZones: AZS, maxSize: 6 });
    const config = JSON.parse(configFile('short', { filters: 'Service=short' }).text) as { groups: { name: string }[] };
    config.groups[0]!.name = 'short';
    const path = join(dir, 'short-group.json');
    writeFileSync(path, JSON.stringify(config));
    const { code, out } = await pairkeeper(['setup', '--role-arn', ROLE], path);
    assert.equal(code, 0);
    assert.match(out, /warning group short: 0 pair\(s\) in us-east-1a, fewer than the 2 its MaxSize 6 may run there/);
  });
});

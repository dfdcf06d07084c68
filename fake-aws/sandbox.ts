/**
 * `npm run sandbox`: pairkeeper against the local AWS, no AWS account needed.
 * Starts the fake (6 pairs over 3 AZs plus one broken pair, an Auto Scaling group
 * `etcd` notifying an SNS topic), starts pairkeeper with config/sandbox.yaml,
 * subscribes it to the topic, and prints what to try. Ctrl-C stops both.
 *
 * `npm run sandbox -- --queue`: no public endpoint. The topic feeds an SQS queue
 * (SNS envelopes, signed; a dead-letter queue after 3 receives) and pairkeeper
 * polls it; `--queue=eventbridge` feeds the queue from an EventBridge rule instead.
 *
 * Ports: FAKE_AWS_PORT (4566), FAKE_SNS_PORT (4567), PAIRKEEPER_LISTEN_PORT (8080),
 * PAIRKEEPER_ADMIN_PORT (8081).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { seedPairs } from './ec2/seed.ts';
import { startFakeAws } from './index.ts';
import { testTls } from './tls/index.ts';

const env = process.env;
const ports = {
  aws: Number(env.FAKE_AWS_PORT ?? 4566),
  sns: Number(env.FAKE_SNS_PORT ?? 4567),
  listen: Number(env.PAIRKEEPER_LISTEN_PORT ?? 8080),
  admin: Number(env.PAIRKEEPER_ADMIN_PORT ?? 8081),
};
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const queueMode = queueModeOf(process.argv.slice(2));

// The world below is new each time, so claims from an earlier sandbox would name instances that never existed here.
rmSync(new URL('../var/sandbox-claims.json', import.meta.url), { force: true });
const aws = await startFakeAws({ port: ports.aws, snsPort: ports.sns, ec2Timing: { attachDelayMs: 500, launchDelayMs: 1000, terminateDelayMs: 1000, releaseDelayMs: 2000 } });
aws.sns.policy = { retries: 3, retryDelayMs: 2000, timeoutMs: 15_000 };
const seeded = seedPairs(aws.ec2, { azs: AZS, pairs: 6, tags: { Service: 'etcd', Env: 'sandbox' }, broken: [{ kind: 'volume-only' }] });
const topicArn = aws.sns.createTopic('pairkeeper-sandbox');
// A launch hook aimed at pairkeeper: instances go in service only once their pair is attached.
const launchHook = { name: 'pairkeeper-launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' as const, heartbeatTimeout: 300, notificationTargetArn: topicArn };
aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: AZS, minSize: 0, maxSize: 9, desiredCapacity: 0, notifications: [{ topicArn }], lifecycleHooks: [launchHook] });

const sandboxConfig = new URL('../config/sandbox.yaml', import.meta.url).pathname;
let configPath = sandboxConfig;
let queueUrl: string | undefined;
if (queueMode) {
  const deadLetter = aws.sqs.createQueue('pairkeeper-sandbox-dlq');
  const queue = aws.sqs.createQueue('pairkeeper-sandbox-intake', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: 3 }) });
  if (queueMode === 'eventbridge') {
    aws.events.putRule({ name: 'pairkeeper-sandbox', pattern: { source: ['aws.autoscaling'], detail: { AutoScalingGroupName: ['etcd'] } }, queueArn: queue.arn });
  } else {
    aws.sns.subscribeQueue(topicArn, queue.arn);
  }
  queueUrl = aws.sqs.urlOf(queue);
  // config/sandbox.yaml plus the intake queue, whose URL names this run's port.
  const config = parseYaml(readFileSync(sandboxConfig, 'utf8')) as Record<string, unknown>;
  config.intake = { sqs: { queueUrl } };
  configPath = new URL('../var/sandbox-queue.yaml', import.meta.url).pathname;
  mkdirSync(new URL('../var/', import.meta.url), { recursive: true });
  writeFileSync(configPath, stringifyYaml(config));
}

const pairkeeper = spawn(process.execPath, [new URL('../src/server.ts', import.meta.url).pathname], {
  env: {
    ...env,
    ...aws.env(),
    PAIRKEEPER_CONFIG: configPath,
    PAIRKEEPER_LISTEN_PORT: String(ports.listen),
    PAIRKEEPER_ADMIN_PORT: String(ports.admin),
    NODE_EXTRA_CA_CERTS: testTls.caPath,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  pairkeeper.kill('SIGTERM');
  void aws.close().then(() => process.exit(code));
};
pairkeeper.once('exit', (code) => {
  if (!stopping) {
    console.error(`pairkeeper exited (${code ?? 'signal'}); stopping the sandbox`);
    stop(1);
  }
});
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

const deadline = Date.now() + 20_000;
while (!(await fetch(`http://127.0.0.1:${ports.listen}/healthz`).then((r) => r.ok, () => false))) {
  if (Date.now() > deadline) {
    console.error('pairkeeper did not come up within 20 s');
    stop(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
if (!queueMode) {
  const subscription = aws.sns.subscribe(topicArn, `http://127.0.0.1:${ports.listen}/sns`);
  while (!subscription.confirmed) await new Promise((r) => setTimeout(r, 50));
}
const intake = queueUrl ? `polling ${queueUrl} (fed by ${queueMode === 'eventbridge' ? 'an EventBridge rule' : topicArn})` : `subscribed to ${topicArn}`;

const ctl = `http://127.0.0.1:${ports.aws}/_fake`;
const admin = `http://127.0.0.1:${ports.admin}`;
console.log(`
sandbox ready: local AWS ${aws.url}, pairkeeper on :${ports.listen} (public) and :${ports.admin} (admin), ${intake}
${seeded.pairs.length} pairs (${seeded.pairs.map((p) => `${p.nodeId}@${p.az}`).join(', ')}) and ${seeded.broken.length} broken

Try:
${[
  [`curl -s -XPOST ${ctl}/groups/etcd/desired-capacity -d '{"desiredCapacity":3}'`, 'scale out: 3 launches, 3 pairs attached'],
  [`curl -s -XPOST ${ctl}/groups/etcd/desired-capacity -d '{"desiredCapacity":8}'`, 'more than the 6 pairs: two instances wait (held by the launch hook for 60 s, then let go to wait)'],
  [`curl -s ${admin}/v1/status`, 'the summary: readiness, last resync, members, pairs per AZ, who waits'],
  [`curl -s -H 'Accept: text/plain' ${admin}/v1/pairs`, 'pairs: free, attached (and to whom), broken'],
  [`curl -s -H 'Accept: text/plain' ${admin}/v1/instances`, 'instances: paired, waiting (and why)'],
  [`curl -s ${admin}/v1/events`, 'what pairkeeper received'],
  [`curl -s -XPOST ${ctl}/instances/<instance-id>/terminate -d '{}'`, 'an instance goes away'],
  [`curl -s ${ctl}/state`, 'EC2 and Auto Scaling as the fake sees them'],
  [`curl -s ${admin}/metrics | grep pairkeeper_`, 'counters'],
]
  .map(([command, what]) => `  ${command!.padEnd(96)} # ${what}`)
  .join('\n')}
Ctrl-C stops the sandbox.
sandbox: ready`);

/** `--queue` (SNS into the queue) or `--queue=eventbridge`; nothing else is an argument here. */
function queueModeOf(argv: string[]): 'sns' | 'eventbridge' | undefined {
  for (const arg of argv) if (arg !== '--queue' && arg !== '--queue=eventbridge') throw new Error(`unknown argument ${arg} (try --queue or --queue=eventbridge)`);
  return argv.includes('--queue=eventbridge') ? 'eventbridge' : argv.includes('--queue') ? 'sns' : undefined;
}

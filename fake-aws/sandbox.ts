/**
 * `npm run sandbox`: pairkeeper against the local AWS, no AWS account needed.
 * Starts the fake with an empty Auto Scaling group `etcd` over 3 AZs, then does what
 * a user does in AWS, with the same commands: `pairkeeper pairs create` (6 pairs over
 * the 3 AZs' subnets), pairkeeper itself with config/sandbox.yaml, and `pairkeeper
 * setup` (the SNS topic, the subscription of pairkeeper's URL, the group's
 * notifications and launch hook). One broken pair (a volume alone) is left for
 * /v1/pairs to show. Prints what to try; Ctrl-C stops both.
 *
 * `npm run sandbox -- --queue`: no public endpoint. The topic feeds an SQS queue
 * (SNS envelopes, signed; a dead-letter queue after 3 receives), wired by `pairkeeper
 * setup` (the queue's policy and subscription), and pairkeeper polls it;
 * `--queue=eventbridge` feeds the queue from an EventBridge rule instead (setup then
 * runs with config/sandbox.yaml, which names no queue: the topic feeds nothing).
 *
 * Ports: FAKE_AWS_PORT (4566), FAKE_SNS_PORT (4567), PAIRKEEPER_LISTEN_PORT (8080),
 * PAIRKEEPER_ADMIN_PORT (8081).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
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
// The group exists before pairkeeper's setup, as in AWS: setup never creates groups.
aws.autoScaling.createGroup({ name: 'etcd', availabilityZones: AZS, minSize: 0, maxSize: 9, desiredCapacity: 0 });
// Half a pair, made by hand and never finished: /v1/pairs shows it as incomplete.
aws.ec2.createVolume({ availabilityZone: AZS[2]!, tags: { NodeID: 'etcd-broken', Service: 'etcd', Env: 'sandbox' } });

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const SANDBOX_CONFIG = new URL('../config/sandbox.yaml', import.meta.url).pathname;
const topicArn = `arn:aws:sns:${aws.region}:${aws.accountId}:pairkeeper-sandbox`;
const queue = queueMode ? queueIntake() : undefined;
const pairkeeperEnv = {
  ...env,
  ...aws.env(),
  PAIRKEEPER_CONFIG: queue?.configPath ?? SANDBOX_CONFIG,
  PAIRKEEPER_LISTEN_PORT: String(ports.listen),
  PAIRKEEPER_ADMIN_PORT: String(ports.admin),
  NODE_EXTRA_CA_CERTS: testTls.caPath,
};
const subnets = AZS.map((az) => aws.ec2.subnetFor(az)).join(',');
const pairsCreate = ['pairs', 'create', '--group', 'etcd', '--count', '6', '--prefix', 'etcd-', '--subnets', subnets, '--size', '8', '--apply'];
// The sandbox's own stand-in for the role Auto Scaling publishes to SNS with. In queue mode nothing is
// subscribed to pairkeeper's URL: the queue is fed from the topic (or an EventBridge rule) instead.
const roleArn = `arn:aws:iam::${aws.accountId}:role/sandbox-asg-notify`;
const endpointOrConfig = !queue ? ['--endpoint', `http://127.0.0.1:${ports.listen}/sns`] : queueMode === 'eventbridge' ? ['--config', SANDBOX_CONFIG] : [];
const setup = ['setup', ...endpointOrConfig, '--role-arn', roleArn, '--apply'];

/** The service, once started (a failed pairs create stops the sandbox before it is). */
const services: ChildProcess[] = [];
let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of services) child.kill('SIGTERM');
  // The local AWS waits for SNS deliveries still retrying; Ctrl-C must not wait for their backoff.
  setTimeout(() => process.exit(code), 10_000).unref();
  void aws.close().then(() => process.exit(code));
}

/** One `pairkeeper` command, as a user runs it (a child process: the local AWS answers from this one); the sandbox stops if it fails. */
async function run(args: string[]): Promise<void> {
  console.log(`$ pairkeeper ${args.join(' ')}`);
  const child = spawn(process.execPath, [CLI, ...args], { env: pairkeeperEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    console.error(`pairkeeper ${args[0]!} failed (exit ${code ?? 'by signal'}); stopping the sandbox`);
    stop(1);
    await new Promise(() => undefined); // stop() exits the process
  }
}

await run(pairsCreate);
const pairkeeper = spawn(process.execPath, [new URL('../src/server.ts', import.meta.url).pathname], { env: pairkeeperEnv, stdio: ['ignore', 'inherit', 'inherit'] });
services.push(pairkeeper);
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
await run(setup);
if (queueMode === 'eventbridge') queue!.feedFromRule();
else if (!queue) while (!aws.sns.listSubscriptions().some((s) => s.topicArn === topicArn && s.confirmed)) await new Promise((r) => setTimeout(r, 50));
const intake = queue ? `polling ${queue.url} (fed by ${queueMode === 'eventbridge' ? 'an EventBridge rule' : topicArn})` : `subscribed to ${topicArn}`;

const ctl = `http://127.0.0.1:${ports.aws}/_fake`;
const admin = `http://127.0.0.1:${ports.admin}`;
console.log(`
sandbox ready: local AWS ${aws.url}, pairkeeper on :${ports.listen} (public) and :${ports.admin} (admin), ${intake}
6 pairs made by \`pairkeeper pairs create\` over ${AZS.join(', ')} and one broken (etcd-broken: a volume alone);
topic, subscription, notifications and launch hook made by \`pairkeeper setup\`: the commands above are the ones you run in AWS.

Try:
${[
  [`curl -s -XPOST ${ctl}/groups/etcd/desired-capacity -d '{"desiredCapacity":3}'`, 'scale out: 3 launches, 3 pairs attached'],
  [`curl -s -XPOST ${ctl}/groups/etcd/desired-capacity -d '{"desiredCapacity":8}'`, 'more than the 6 pairs: two instances wait (held by the launch hook for 60 s, then let go to wait)'],
  [`curl -s -H 'Accept: text/plain' ${admin}/v1/status`, `the summary: readiness, last resync, members, pairs per AZ, who waits (or: PAIRKEEPER_ADMIN_PORT=${ports.admin} node src/cli.ts status --config config/sandbox.yaml)`],
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

function queueModeOf(argv: string[]): 'sns' | 'eventbridge' | undefined {
  for (const arg of argv) if (arg !== '--queue' && arg !== '--queue=eventbridge') throw new Error(`unknown argument ${arg} (try --queue or --queue=eventbridge)`);
  return argv.includes('--queue=eventbridge') ? 'eventbridge' : argv.includes('--queue') ? 'sns' : undefined;
}

/** The intake queue (with its dead-letter queue) and config/sandbox.yaml plus that queue, whose URL names this run's port. */
function queueIntake(): { url: string; configPath: string; feedFromRule: () => void } {
  const deadLetter = aws.sqs.createQueue('pairkeeper-sandbox-dlq');
  const intakeQueue = aws.sqs.createQueue('pairkeeper-sandbox-intake', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: 3 }) });
  const url = aws.sqs.urlOf(intakeQueue);
  const config = parseYaml(readFileSync(SANDBOX_CONFIG, 'utf8')) as Record<string, unknown>;
  config.intake = { sqs: { queueUrl: url } };
  const configPath = new URL('../var/sandbox-queue.yaml', import.meta.url).pathname;
  mkdirSync(new URL('../var/', import.meta.url), { recursive: true });
  writeFileSync(configPath, stringifyYaml(config));
  // An EventBridge rule for the group's events (what setup does not make: README, "No public endpoint").
  const feedFromRule = () => aws.events.putRule({ name: 'pairkeeper-sandbox', pattern: { source: ['aws.autoscaling'], detail: { AutoScalingGroupName: ['etcd'] } }, queueArn: intakeQueue.arn });
  return { url, configPath, feedFromRule };
}

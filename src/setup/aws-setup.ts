/**
 * `pairkeeper setup`: the plan that makes AWS match the config, so that Auto Scaling's
 * messages reach pairkeeper:
 *
 * - the SNS topic (one of sns.topicArns: the first, or the one --topic-name names),
 *   created when missing;
 * - the subscription of pairkeeper's public URL (--endpoint), which pairkeeper then
 *   confirms itself (sns.autoConfirm);
 * - each group's notification configuration for that topic: launch, terminate, their
 *   errors and the test notification;
 * - a launch lifecycle hook per group aimed at the topic (default result ABANDON: an
 *   instance never goes in service without its pair), with the role Auto Scaling
 *   publishes with (given, never created);
 * - with intake.sqs, the queue fed by the topic (queue-setup.ts): a statement of the
 *   queue's policy that lets the topic send to it, then its subscription.
 *
 * And what it checks but cannot fix, which stops it before any change: topics of
 * another region than aws.region (Auto Scaling publishes only in its own), groups
 * that do not exist, a hook of pairkeeper's name aimed elsewhere. Fewer pairs in an
 * AZ than the group may run there is a warning.
 */
import type { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import type { GroupShape, SetupGateway, SubscriptionInfo } from '../aws/setup-gateway.ts';
import type { Config, GroupConfig } from '../config/schema.ts';
import { pairFilters } from '../domain/filters.ts';
import { buildPairs } from '../domain/inventory.ts';
import { step, type Plan } from './plan.ts';
import { checkQueueInput, planQueue } from './queue-setup.ts';
import { SetupBlockedError, SetupInputError } from './setup-errors.ts';

/** The notification types pairkeeper acts on (and the test one, which it acknowledges). */
export const NOTIFICATION_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
  'autoscaling:TEST_NOTIFICATION',
];

export const DEFAULT_HOOK_NAME = 'pairkeeper-launch';
/**
 * Long enough for an attach and a volume preparation; pairkeeper records heartbeats
 * while it works (lifecycle.heartbeatFraction), so this only bounds a silent stall.
 */
export const DEFAULT_HOOK_HEARTBEAT_SECONDS = 300;

export interface SetupInput {
  /** pairkeeper's public POST /sns URL; no subscription is planned without it. */
  endpoint: string | undefined;
  topicName: string | undefined;
  roleArn: string | undefined;
  hookHeartbeatSeconds: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The topic ARN setup works on, and everything else that needs no call. */
export function checkSetupInput(config: Config, input: SetupInput): { topicArn: string } {
  const topics = config.sns.topicArns;
  if (topics.length === 0) {
    throw new SetupInputError(
      'sns.topicArns is empty: setup makes Auto Scaling notify an SNS topic and subscribes pairkeeper to it. With the events from a queue alone (fed by an EventBridge rule), make the rule and the launch hook yourself (README, "No public endpoint"); pairs create needs no topic',
    );
  }
  const topicArn = input.topicName === undefined ? topics[0]! : topics.find((arn) => arn.split(':')[5] === input.topicName);
  if (topicArn === undefined) throw new SetupInputError(`--topic-name ${input.topicName!}: not in sns.topicArns (add its ARN there, or pairkeeper refuses its messages)`);
  const topicRegion = topicArn.split(':')[3];
  if (topicRegion !== config.aws.region) {
    throw new SetupInputError(`sns.topicArns: ${topicArn} is in ${topicRegion!}, aws.region is ${config.aws.region}; Auto Scaling notifies topics of its own region only`);
  }
  if (input.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(input.endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new SetupInputError(`--endpoint ${input.endpoint}: expected pairkeeper's public URL, such as https://pairkeeper.example.com/sns`);
  }
  if (config.intake.sqs) checkQueueInput(config.intake.sqs.queueUrl, topicArn);
  if (input.roleArn !== undefined && !ROLE_ARN.test(input.roleArn)) throw new SetupInputError(`--role-arn ${input.roleArn}: expected an IAM role ARN, such as arn:aws:iam::123456789012:role/asg-notify`);
  if (!Number.isInteger(input.hookHeartbeatSeconds) || input.hookHeartbeatSeconds < 30 || input.hookHeartbeatSeconds > 7200) {
    throw new SetupInputError(`--hook-heartbeat ${input.hookHeartbeatSeconds}: Auto Scaling takes 30 to 7200 seconds`);
  }
  if (config.groups.length === 0) throw new SetupInputError('the config has no groups');
  return { topicArn };
}

export async function planSetup(config: Config, input: SetupInput, aws: { setup: SetupGateway; ec2: Ec2Gateway; autoScaling: AutoScalingGateway }): Promise<Plan> {
  const { topicArn } = checkSetupInput(config, input);
  const plan: Plan = { title: `setup: topic ${topicArn}, groups ${config.groups.map((g) => g.name).join(', ')}`, found: [], steps: [], warnings: [] };
  const topicName = topicArn.split(':')[5]!;

  const topicExists = await aws.setup.topicExists(topicArn);
  if (topicExists) plan.found.push(`topic ${topicArn}`);
  else {
    plan.steps.push(
      step(`create topic ${topicName}`, 'sns:CreateTopic', async () => {
        const created = await aws.setup.createTopic(topicName);
        // The config names the ARN pairkeeper accepts; a topic of another account would never be.
        if (created !== topicArn) throw new SetupBlockedError(`CreateTopic ${topicName} answered ${created}, not ${topicArn} (sns.topicArns): another account's credentials?`);
        return `created topic ${created}`;
      }),
    );
  }

  const queueUrl = config.intake.sqs?.queueUrl;
  const subscriptions = topicExists && (input.endpoint !== undefined || queueUrl !== undefined) ? await aws.setup.subscriptions(topicArn) : [];
  if (input.endpoint !== undefined) planSubscription(plan, topicArn, input.endpoint, subscriptions, aws.setup);
  if (queueUrl !== undefined) await planQueue(plan, topicArn, queueUrl, subscriptions, aws.setup);

  const names = config.groups.map((g) => g.name);
  const groups = await aws.setup.groups(names);
  const missing = names.filter((n) => !groups.some((g) => g.name === n));
  if (missing.length > 0) throw new SetupBlockedError(`no Auto Scaling group ${missing.join(', ')} in ${config.aws.region}: create it first (setup never creates groups)`);

  const notifications = await aws.setup.notificationTypes(names);
  for (const group of config.groups) {
    const shape = groups.find((g) => g.name === group.name)!;
    planNotifications(plan, group.name, topicArn, notifications.get(group.name)?.get(topicArn) ?? new Set(), aws.setup);
    await planHook(plan, group.name, topicArn, config.sns.topicArns, input, aws);
    await checkPairsPerZone(plan, group, shape, aws.ec2);
  }
  return plan;
}

function planSubscription(plan: Plan, topicArn: string, endpoint: string, subscriptions: SubscriptionInfo[], setup: SetupGateway): void {
  const found = subscriptions.find((s) => s.endpoint === endpoint && (s.protocol === 'http' || s.protocol === 'https'));
  if (found) {
    plan.found.push(`subscription of ${endpoint}${found.confirmed ? '' : ' (pending confirmation: is pairkeeper running there, with sns.autoConfirm?)'}`);
    return;
  }
  const protocol = endpoint.startsWith('https:') ? 'https' : 'http';
  plan.steps.push(
    step(`subscribe ${endpoint} to ${topicArn}`, 'sns:Subscribe', async () => {
      await setup.subscribe(topicArn, protocol, endpoint);
      return `subscribed ${endpoint} (pairkeeper confirms it when the confirmation arrives)`;
    }),
  );
}

function planNotifications(plan: Plan, group: string, topicArn: string, types: Set<string>, setup: SetupGateway): void {
  const lacking = NOTIFICATION_TYPES.filter((t) => !types.has(t));
  if (lacking.length === 0) {
    plan.found.push(`group ${group} notifies the topic of launches and terminations`);
    return;
  }
  // A put replaces the group's types for this topic: keep any the operator added.
  const wanted = [...new Set([...types, ...NOTIFICATION_TYPES])].sort();
  plan.steps.push(
    step(`notify the topic of group ${group}'s ${lacking.map((t) => t.replace('autoscaling:', '')).join(', ')}`, 'autoscaling:PutNotificationConfiguration', async () => {
      await setup.putNotificationConfiguration(group, topicArn, wanted);
      return `group ${group} notifies ${topicArn}`;
    }),
  );
}

async function planHook(plan: Plan, group: string, topicArn: string, ourTopics: string[], input: SetupInput, aws: { setup: SetupGateway; autoScaling: AutoScalingGateway }): Promise<void> {
  const hooks = (await aws.autoScaling.hooks(group)).filter((h) => h.transition === 'launching');
  const named = hooks.find((h) => h.name === DEFAULT_HOOK_NAME);
  if (named && !ourTopics.includes(named.notificationTargetArn ?? '')) {
    throw new SetupBlockedError(`group ${group}: hook ${named.name} notifies ${named.notificationTargetArn ?? 'nothing'}, not a topic of sns.topicArns; aim it at ${topicArn} or delete it (setup never changes another target)`);
  }
  for (const other of hooks.filter((h) => h !== named && !ourTopics.includes(h.notificationTargetArn ?? ''))) {
    plan.warnings.push(`group ${group}: launch hook ${other.name} notifies ${other.notificationTargetArn ?? 'nothing'}; launches also wait for whoever completes it`);
  }
  const ours = named ?? hooks.find((h) => ourTopics.includes(h.notificationTargetArn ?? ''));
  const spec = {
    group,
    name: ours?.name ?? DEFAULT_HOOK_NAME,
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' as const,
    topicArn: ours?.notificationTargetArn ?? topicArn,
    roleArn: input.roleArn,
    heartbeatTimeoutSeconds: input.hookHeartbeatSeconds,
    defaultResult: 'ABANDON' as const,
  };
  if (ours && ours.heartbeatTimeoutSeconds === input.hookHeartbeatSeconds) {
    plan.found.push(`group ${group} has launch hook ${ours.name} (heartbeat ${ours.heartbeatTimeoutSeconds} s) aimed at ${spec.topicArn}`);
    return;
  }
  if (!ours && input.roleArn === undefined) {
    throw new SetupInputError(`group ${group} has no launch hook aimed at the topic: give --role-arn, the role Auto Scaling publishes to SNS with (for example AutoScalingNotificationAccessRole)`);
  }
  const what = ours
    ? `set hook ${ours.name} of group ${group} to a ${input.hookHeartbeatSeconds} s heartbeat (was ${ours.heartbeatTimeoutSeconds} s)`
    : `add launch hook ${DEFAULT_HOOK_NAME} to group ${group} (heartbeat ${input.hookHeartbeatSeconds} s, default result ABANDON)`;
  plan.steps.push(
    step(what, 'autoscaling:PutLifecycleHook', async () => {
      await aws.setup.putLifecycleHook(spec);
      return `group ${group}: launch hook ${spec.name} aimed at ${spec.topicArn}`;
    }),
  );
}

/**
 * Auto Scaling balances a group over its AZs, so an AZ runs up to MaxSize / AZs
 * (rounded up) instances; each needs a pair there.
 */
async function checkPairsPerZone(plan: Plan, group: GroupConfig, shape: GroupShape, ec2: Ec2Gateway): Promise<void> {
  const filters = pairFilters(group.filters, group.nodeIdTag);
  const [volumes, enis] = await Promise.all([ec2.describeVolumes(filters), ec2.describeNetworkInterfaces(filters)]);
  const pairs = buildPairs(group.name, group.nodeIdTag, volumes, enis).filter((p) => p.volume && p.eni && p.volume.availabilityZone === p.eni.availabilityZone);
  const perZone = Math.ceil(shape.maxSize / Math.max(1, shape.availabilityZones.length));
  for (const zone of shape.availabilityZones) {
    const have = pairs.filter((p) => p.volume!.availabilityZone === zone).length;
    if (have < perZone) plan.warnings.push(`group ${group.name}: ${have} pair(s) in ${zone}, fewer than the ${perZone} its MaxSize ${shape.maxSize} may run there (pairkeeper pairs create)`);
  }
}

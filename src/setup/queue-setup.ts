/**
 * `pairkeeper setup` with intake.sqs: the queue pairkeeper reads, fed by the topic.
 * SNS delivers to a queue only where the queue's policy lets the topic send to it;
 * without that its deliveries fail and nothing says so where an operator looks. So
 * setup writes one statement of the queue's policy (Sid `pairkeeper-sns-delivery`:
 * SNS may SendMessage to this queue from these topics, ArnEquals aws:SourceArn) and
 * then subscribes the queue, with the envelope (not raw), whose signature pairkeeper
 * verifies. The policy is written whole (SQS has no "add a statement"): every other
 * statement is kept as read just before the write.
 *
 * What it checks but cannot fix: the queue must be of the topic's account (another
 * account's queue must confirm the subscription itself), exist (setup never creates
 * queues), and not be encrypted with the AWS managed key alias/aws/sqs, whose key
 * policy cannot let SNS use it (AWS: SQS Developer Guide, "Key management").
 */
import { isDeepStrictEqual } from 'node:util';
import type { QueueInfo, SetupGateway, SubscriptionInfo } from '../aws/setup-gateway.ts';
import { step, type Plan } from './plan.ts';
import { SetupBlockedError, SetupInputError } from './setup-errors.ts';

const QUEUE_POLICY_SID = 'pairkeeper-sns-delivery';

interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  [key: string]: unknown;
}

interface QueuePolicy {
  Version?: string;
  Statement: PolicyStatement[];
  [key: string]: unknown;
}

export async function planQueue(plan: Plan, topicArn: string, queueUrl: string, subscriptions: SubscriptionInfo[], setup: SetupGateway): Promise<void> {
  const queue = await setup.queue(queueUrl);
  if (!queue) throw new SetupBlockedError(`no SQS queue ${queueUrl} (intake.sqs.queueUrl): create it first (setup never creates queues)`);
  checkQueue(queue);

  const policy = parsePolicy(queue);
  const sources = topicsAllowed(policy);
  if (isDeepStrictEqual(ourStatement(policy), deliveryStatement(queue.arn, sources)) && sources.includes(topicArn)) {
    plan.found.push(`queue ${queue.arn} lets ${topicArn} send to it (policy statement ${QUEUE_POLICY_SID})`);
  } else {
    plan.steps.push(
      step(`let ${topicArn} send to queue ${queue.arn} (statement ${QUEUE_POLICY_SID} of its policy; its other statements kept)`, 'sqs:SetQueueAttributes', async () => {
        // Read again: what the policy holds now is what must be kept.
        const now = await setup.queue(queueUrl);
        if (!now) throw new SetupBlockedError(`queue ${queueUrl} is gone`);
        await setup.setQueuePolicy(queueUrl, JSON.stringify(withTopic(parsePolicy(now), now.arn, topicArn)));
        return `queue ${now.arn}: SNS may send to it from ${topicArn}`;
      }),
    );
  }
  if (policy.Statement.some((s) => s.Effect === 'Deny')) {
    plan.warnings.push(`queue ${queue.arn}: its policy has Deny statements; setup does not check them against SNS's delivery`);
  }

  if (subscriptions.some((s) => s.protocol === 'sqs' && s.endpoint === queue.arn)) {
    plan.found.push(`subscription of queue ${queue.arn}`);
  } else {
    plan.steps.push(
      step(`subscribe queue ${queue.arn} to ${topicArn}`, 'sns:Subscribe', async () => {
        await setup.subscribe(topicArn, 'sqs', queue.arn);
        return `subscribed queue ${queue.arn}`;
      }),
    );
  }
  if (queue.kmsMasterKeyId !== undefined) {
    plan.warnings.push(`queue ${queue.arn} is encrypted with KMS key ${queue.kmsMasterKeyId}: its key policy must let sns.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt); setup does not change key policies`);
  }
}

/** Before any call: the queue's URL names its account. */
export function checkQueueInput(queueUrl: string, topicArn: string): void {
  const queueAccount = new URL(queueUrl).pathname.split('/')[1];
  const topicAccount = topicArn.split(':')[4];
  if (queueAccount !== topicAccount) {
    throw new SetupInputError(
      `intake.sqs.queueUrl: queue ${queueUrl} is of account ${queueAccount!}, the topic ${topicArn} of ${topicAccount!}: setup subscribes a queue of the topic's account only (another account's queue confirms its subscription itself)`,
    );
  }
}

function checkQueue(queue: QueueInfo): void {
  if (queue.kmsMasterKeyId === 'alias/aws/sqs' || queue.kmsMasterKeyId?.endsWith(':alias/aws/sqs')) {
    throw new SetupBlockedError(
      `queue ${queue.arn} is encrypted with the AWS managed key alias/aws/sqs, which SNS cannot use: encrypt it with SSE-SQS, or with a customer managed key whose policy lets sns.amazonaws.com use it`,
    );
  }
}

function parsePolicy(queue: QueueInfo): QueuePolicy {
  if (queue.policy === undefined || queue.policy === '') return { Version: '2012-10-17', Statement: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(queue.policy);
  } catch {
    parsed = undefined;
  }
  const statements = typeof parsed === 'object' && parsed !== null ? (parsed as { Statement?: unknown }).Statement : undefined;
  if (statements === undefined || typeof statements !== 'object' || statements === null) {
    throw new SetupBlockedError(`queue ${queue.arn}: its policy is not a policy document setup can read; fix it first (setup never drops statements it cannot read)`);
  }
  // A single statement may stand without its array.
  return { ...(parsed as QueuePolicy), Statement: Array.isArray(statements) ? (statements as PolicyStatement[]) : [statements as PolicyStatement] };
}

function ourStatement(policy: QueuePolicy): PolicyStatement | undefined {
  return policy.Statement.find((s) => s.Sid === QUEUE_POLICY_SID);
}

/** The topics setup's statement lets send (a value may be one ARN or a list). */
function topicsAllowed(policy: QueuePolicy): string[] {
  const condition = ourStatement(policy)?.Condition as { ArnEquals?: Record<string, unknown> } | undefined;
  const value = condition?.ArnEquals?.['aws:SourceArn'];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

function deliveryStatement(queueArn: string, topicArns: string[]): PolicyStatement {
  return {
    Sid: QUEUE_POLICY_SID,
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': topicArns } },
  };
}

/** The policy with setup's statement letting `topicArn` send too, in its place; the other statements untouched. */
function withTopic(policy: QueuePolicy, queueArn: string, topicArn: string): QueuePolicy {
  const sources = [...new Set([...topicsAllowed(policy), topicArn])].sort();
  const others = policy.Statement.filter((s) => s.Sid !== QUEUE_POLICY_SID);
  return { ...policy, Statement: [...others, deliveryStatement(queueArn, sources)] };
}

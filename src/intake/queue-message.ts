/**
 * What an SQS message body is, and the event it carries. Three kinds of body reach
 * a queue: an SNS envelope (a topic subscribed without raw delivery), verified
 * exactly as `POST /sns` verifies it; the raw Auto Scaling message (raw delivery,
 * or Auto Scaling's notifications straight to SQS); and an EventBridge event (a
 * rule targeting the queue). A raw or EventBridge body carries no signature: the
 * queue's access policy is the trust boundary there, and the controller checks the
 * instance's membership against AWS before pairing it.
 */
import type { AutoScalingEvent, IntakeEvent } from '../domain/autoscaling-event.ts';
import { unknown } from '../domain/autoscaling-fields.ts';
import { looksLikeEventBridgeEvent, MAX_EVENT_BYTES, parseEventBridgeEvent } from './eventbridge-event.ts';
import { IntakeMessageError } from './intake-error.ts';

/**
 * What the intake needs of the SNS adapter (app.ts wires src/sns in): the one
 * envelope check `POST /sns` uses, and the one Auto Scaling message parser.
 */
export interface SnsReader {
  /** Throws a terminal SnsRejection for an envelope that is malformed, forged, stale or from a topic not allowed. */
  openEnvelope(body: string): Promise<{ Type: string; MessageId: string; TopicArn: string; Message: string }>;
  /** Auto Scaling's own message: an envelope's Message, or a raw-delivered body. */
  parseMessage(message: string): AutoScalingEvent;
}

export type QueueBodyFormat = 'sns-envelope' | 'raw' | 'eventbridge';

export interface QueueMessage {
  format: QueueBodyFormat;
  event: IntakeEvent;
  /** The SNS MessageId and topic of an envelope. */
  sns?: { messageId: string; topicArn: string };
}

/** Throws an IntakeMessageError or an SnsRejection (both terminal) for a body that can never become an event. */
export async function decodeQueueMessage(body: string, sns: SnsReader): Promise<QueueMessage> {
  if (Buffer.byteLength(body, 'utf8') > MAX_EVENT_BYTES) {
    throw new IntakeMessageError('PK_INTAKE_TOO_LARGE', `body is over ${MAX_EVENT_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new IntakeMessageError('PK_INTAKE_MALFORMED', 'body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IntakeMessageError('PK_INTAKE_MALFORMED', 'body is not a JSON object');
  }
  if (looksLikeEventBridgeEvent(parsed)) return { format: 'eventbridge', event: parseEventBridgeEvent(body) };
  // SNS's envelope names its Type and TopicArn; an Auto Scaling message never does.
  if ('Type' in parsed && 'TopicArn' in parsed) {
    const envelope = await sns.openEnvelope(body);
    const ids = { messageId: envelope.MessageId, topicArn: envelope.TopicArn };
    if (envelope.Type !== 'Notification') {
      // A queue of another account gets a SubscriptionConfirmation; confirming is the operator's act there.
      return { format: 'sns-envelope', sns: ids, event: unknown(`SNS ${envelope.Type}: confirm or remove the queue's subscription in SNS`) };
    }
    return { format: 'sns-envelope', sns: ids, event: sns.parseMessage(envelope.Message) };
  }
  return { format: 'raw', event: sns.parseMessage(body) };
}

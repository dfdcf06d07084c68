/**
 * One message an intake handled (a POST /sns delivery or a queue message), as the
 * operators' list of recent events shows it: enough to answer "did the launch of
 * i-… reach us, and what happened?". Every field is bounded by the intake first.
 */
export interface HandledMessage {
  at: string;
  /** The SNS MessageId (a queue message without one: SQS's); absent for a body too broken to have one. */
  messageId?: string;
  /** The SNS message type, or `sqs:` and the body's format. */
  type: string;
  kind?: string;
  group?: string;
  instanceId?: string;
  outcome: string;
  detail?: string;
  durationMs: number;
}

import { FakeAwsError } from '../errors.ts';

/**
 * SQS errors as the JSON protocol writes them: `__type` is the Smithy shape
 * (`com.amazonaws.sqs#QueueDoesNotExist`) and, because SQS is "query compatible",
 * the `x-amzn-query-error` header carries the old Query code and fault
 * (`AWS.SimpleQueueService.NonExistentQueue;Sender`). The SDK names its error after
 * the query code's shape, so both must agree with the SDK's error schemas.
 */
export class SqsError extends FakeAwsError {
  /** The Smithy shape name, e.g. `QueueDoesNotExist`. */
  readonly shape: string;
  constructor(shape: string, queryCode: string, message: string, status = 400) {
    super(queryCode, message, status);
    this.name = 'SqsError';
    this.shape = shape;
  }
}

export const sqsErrors = {
  queueDoesNotExist: () =>
    new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.'),
  queueNameExists: (attribute: string) =>
    new SqsError('QueueNameExists', 'QueueAlreadyExists', `A queue already exists with the same name and a different value for attribute ${attribute}`),
  receiptHandleIsInvalid: (handle: string) =>
    new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404),
  /** An older receipt handle of a message received again since (AWS: "The receipt handle has expired"). */
  receiptHandleExpired: (handle: string) =>
    invalidParameterValue(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`),
  messageNotInflight: () => new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.'),
  invalidAttributeName: (name: string) => new SqsError('InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`),
  invalidMessageContents: () =>
    new SqsError(
      'InvalidMessageContents',
      'InvalidMessageContents',
      'Invalid binary character was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    ),
  missingParameter: (name: string) => new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`),
};

/** SQS has no modelled shape for this one: the SDK names it from the query code. */
export function invalidParameterValue(message: string): SqsError {
  return new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);
}

export function invalidAttributeValue(message: string): SqsError {
  return new SqsError('InvalidAttributeValue', 'InvalidAttributeValue', message);
}

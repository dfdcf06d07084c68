/**
 * What an AWS failure means, read from the SDK's error shape: service errors carry
 * the AWS code in `name` and the HTTP status in `$metadata`; network failures are
 * Node errors with a system `code`; credential providers throw named errors. This
 * is the only module that knows AWS error codes: adapters turn a failure into an
 * `AwsError` with a kind (one table below), and everything above sees only kinds
 * and `PK_AWS_*` codes, never an AWS code or an SDK message.
 */
import { PairkeeperError, type ErrorCode } from '../errors.ts';

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

export type AwsErrorKind =
  /** Slow down: retried with backoff. */
  | 'throttled'
  /** 5xx, timeouts, dropped connections: the request may never have arrived. */
  | 'transient'
  /** Credentials could not be loaded or have expired (an IMDS hiccup, a token refresh). */
  | 'credentials'
  /** IAM said no (or not yet: a new policy takes a while to reach every endpoint). */
  | 'denied'
  /** AWS does not know the thing (yet): unknown, not gone. */
  | 'not-found'
  /** A volume another instance holds. */
  | 'in-use'
  /** The instance already has something at that device name or index. */
  | 'device-in-use'
  | 'already-exists'
  /** No lifecycle action is open any more (completed elsewhere, timed out, stale token). */
  | 'no-active-action'
  /** A request AWS will never accept as it is. */
  | 'invalid'
  | 'unknown';

/** Every AWS (and SDK) code pairkeeper meets, and what it means. */
const KIND_OF_CODE: Readonly<Record<string, AwsErrorKind>> = {
  // EC2 says RequestLimitExceeded (HTTP 503); SSM ThrottlingException, and TooManyUpdates
  // (HTTP 400) for writes to one parameter, which the SDK does not retry on its own.
  RequestLimitExceeded: 'throttled',
  Throttling: 'throttled',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  TooManyUpdates: 'throttled',
  RequestThrottled: 'throttled',
  TimeoutError: 'transient',
  RequestTimeout: 'transient',
  RequestTimeoutException: 'transient',
  InternalError: 'transient',
  InternalServerError: 'transient',
  ServiceUnavailable: 'transient',
  Unavailable: 'transient',
  ECONNRESET: 'transient',
  ECONNREFUSED: 'transient',
  EPIPE: 'transient',
  ETIMEDOUT: 'transient',
  EHOSTUNREACH: 'transient',
  ENETUNREACH: 'transient',
  ENOTFOUND: 'transient',
  EAI_AGAIN: 'transient',
  CredentialsProviderError: 'credentials',
  ExpiredToken: 'credentials',
  ExpiredTokenException: 'credentials',
  RequestExpired: 'credentials',
  AuthFailure: 'denied',
  UnauthorizedOperation: 'denied',
  AccessDenied: 'denied',
  AccessDeniedException: 'denied',
  ParameterNotFound: 'not-found',
  InvocationDoesNotExist: 'not-found',
  // SSM: the instance's agent has not registered (yet).
  InvalidInstanceId: 'not-found',
  'InvalidInstanceID.NotFound': 'not-found',
  'InvalidVolume.NotFound': 'not-found',
  'InvalidNetworkInterfaceID.NotFound': 'not-found',
  'InvalidAttachmentID.NotFound': 'not-found',
  // `pairs create` and `setup`: a subnet or security group of another region or VPC, an SNS topic that is gone.
  'InvalidSubnetID.NotFound': 'not-found',
  'InvalidGroup.NotFound': 'not-found',
  NotFound: 'not-found',
  // SQS (JSON protocol) names the error by its shape; the query code is kept beside it.
  QueueDoesNotExist: 'not-found',
  'AWS.SimpleQueueService.NonExistentQueue': 'not-found',
  VolumeInUse: 'in-use',
  ParameterAlreadyExists: 'already-exists',
  InvalidParameterValue: 'invalid',
  InvalidParameterCombination: 'invalid',
  'InvalidVolume.ZoneMismatch': 'invalid',
  ValidationException: 'invalid',
  'InvalidSubnetID.Malformed': 'invalid',
  'InvalidGroupId.Malformed': 'invalid',
  InvalidParameter: 'invalid',
  InvalidAttributeValue: 'invalid',
  MissingParameter: 'invalid',
};

function shape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? err : {};
}

function status(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** The AWS error code (`ParameterNotFound`, `VolumeInUse`), a Node system code, or undefined. */
export function errorCode(err: unknown): string | undefined {
  const e = shape(err);
  if (e.$metadata !== undefined && typeof e.name === 'string') return e.name;
  if (typeof e.code === 'string') return e.code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return undefined;
}

export function isThrottle(err: unknown): boolean {
  return kindOf(err) === 'throttled';
}

/** 5xx answers, timeouts and network failures. An abort is the caller's decision, never transient. */
export function isTransient(err: unknown): boolean {
  return kindOf(err) === 'transient';
}

/** The kind of any failure an AWS call can end with. */
export function kindOf(err: unknown): AwsErrorKind {
  if (err instanceof AwsError) return err.kind;
  const e = shape(err);
  if (e.name === 'AbortError') return 'unknown';
  if (e.$retryable?.throttling === true || status(err) === 429) return 'throttled';
  for (const code of [errorCode(err), typeof e.code === 'string' ? e.code : undefined]) {
    const kind = code === undefined ? undefined : KIND_OF_CODE[code];
    if (kind) return refine(kind, e);
  }
  const httpStatus = status(err);
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) return 'transient';
  // Auto Scaling answers every refusal with ValidationError; on a lifecycle action it means no action is open.
  if (errorCode(err) === 'ValidationError') return 'no-active-action';
  return 'unknown';
}

/** EC2 says "InvalidParameterValue … is already in use" for a device name taken on the instance. */
function refine(kind: AwsErrorKind, e: ErrorShape): AwsErrorKind {
  if (kind === 'invalid' && typeof e.message === 'string' && /already in use/.test(e.message)) return 'device-in-use';
  return kind;
}

const CODE_OF_KIND: Record<AwsErrorKind, ErrorCode> = {
  throttled: 'PK_AWS_RETRIES_EXHAUSTED',
  transient: 'PK_AWS_UNAVAILABLE',
  credentials: 'PK_AWS_CREDENTIALS',
  denied: 'PK_AWS_DENIED',
  'not-found': 'PK_AWS_NOT_FOUND',
  'in-use': 'PK_AWS_IN_USE',
  'device-in-use': 'PK_AWS_IN_USE',
  'already-exists': 'PK_AWS_ALREADY_EXISTS',
  'no-active-action': 'PK_AWS_NO_ACTIVE_ACTION',
  invalid: 'PK_AWS_INVALID',
  unknown: 'PK_AWS_FAILED',
};

/** A failed AWS call as the rest of pairkeeper sees it: a kind, a PK_AWS_* code, and the call that failed. */
export class AwsError extends PairkeeperError {
  readonly kind: AwsErrorKind;
  constructor(what: string, cause: unknown) {
    const kind = kindOf(cause);
    super(CODE_OF_KIND[kind], `${what} failed: ${describe(cause)}`, { cause });
    this.kind = kind;
  }
}

/** AWS's code and its own words (which permission, which resource), bounded: what an operator needs to act. */
function describe(err: unknown): string {
  const code = errorCode(err);
  const message = shape(err).message;
  const text = typeof message === 'string' && message !== '' && message !== code ? `${code ?? 'error'}: ${message}` : (code ?? String(err));
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION)}…` : text;
}

const MAX_DESCRIPTION = 500;

/** Turns any failure of an AWS call into an AwsError (a PairkeeperError passes through: it was classified already). */
export function asAwsError(what: string, err: unknown): PairkeeperError {
  return err instanceof PairkeeperError ? err : new AwsError(what, err);
}

/** Whether `err` is an AWS failure of this kind. */
export function isAwsKind(err: unknown, kind: AwsErrorKind): boolean {
  return kindOf(err) === kind;
}

/**
 * What an AWS failure means for the caller, read from the SDK's error shape: service
 * errors carry the AWS code in `name` and the HTTP status in `$metadata`; network
 * failures are Node errors with a system `code`. One module, so every adapter (SSM,
 * EC2, Auto Scaling) agrees on what is worth retrying.
 */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/**
 * Codes AWS uses for "slow down": EC2 says RequestLimitExceeded (HTTP 503), SSM says
 * ThrottlingException, and TooManyUpdates (HTTP 400) for writes to one parameter,
 * which the SDK does not retry on its own.
 */
const THROTTLE_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TooManyUpdates',
  'RequestThrottled',
]);

/** Timeouts and dropped connections: the request may never have arrived, so trying again can help. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

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
  const code = errorCode(err);
  return (code !== undefined && THROTTLE_CODES.has(code)) || status(err) === 429 || shape(err).$retryable?.throttling === true;
}

/** 5xx answers, timeouts and network failures. An abort is the caller's decision, never transient. */
export function isTransient(err: unknown): boolean {
  const e = shape(err);
  if (e.name === 'AbortError') return false;
  const httpStatus = status(err);
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) return true;
  return [e.name, e.code].some((c) => typeof c === 'string' && TRANSIENT_CODES.has(c));
}

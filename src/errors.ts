/**
 * Every error pairkeeper raises has a stable `code` (what logs, metrics and HTTP
 * answers carry). The catalogue below is the one place that says, per code, the
 * HTTP status it becomes when it reaches an answer and whether trying again could
 * help. SNS answers follow DESIGN.md rule 5: 4xx only for input that can never
 * become valid (SNS drops it), 5xx only when a retry could succeed; `reason` is the
 * label of `pairkeeper_sns_rejections_total`.
 */
interface CodeSpec {
  status: number;
  retryable: boolean;
  /** SNS refusals: the metric label. */
  reason?: string;
}

export const SNS_REJECTIONS = {
  PK_SNS_MALFORMED: { status: 400, retryable: false, reason: 'malformed' },
  PK_SNS_HEADER_MISMATCH: { status: 400, retryable: false, reason: 'header_mismatch' },
  PK_SNS_BODY_TOO_LARGE: { status: 413, retryable: false, reason: 'too_large' },
  PK_SNS_TOPIC_NOT_ALLOWED: { status: 403, retryable: false, reason: 'topic_not_allowed' },
  PK_SNS_CERT_URL: { status: 403, retryable: false, reason: 'cert_url' },
  PK_SNS_SUBSCRIBE_URL: { status: 403, retryable: false, reason: 'subscribe_url' },
  PK_SNS_SIGNATURE_VERSION: { status: 403, retryable: false, reason: 'signature_version' },
  PK_SNS_BAD_SIGNATURE: { status: 403, retryable: false, reason: 'bad_signature' },
  PK_SNS_CERT_INVALID: { status: 403, retryable: false, reason: 'cert_invalid' },
  PK_SNS_STALE: { status: 403, retryable: false, reason: 'stale' },
  PK_SNS_FROM_FUTURE: { status: 403, retryable: false, reason: 'from_future' },
  PK_SNS_CERT_UNAVAILABLE: { status: 503, retryable: true, reason: 'cert_unavailable' },
  PK_SNS_CONFIRM_REFUSED: { status: 400, retryable: false, reason: 'confirm_refused' },
  PK_SNS_CONFIRM_FAILED: { status: 503, retryable: true, reason: 'confirm_failed' },
  PK_SNS_BUSY: { status: 503, retryable: true, reason: 'busy' },
} as const satisfies Record<string, Required<CodeSpec>>;

export const ERROR_CODES = {
  ...SNS_REJECTIONS,
  // Start-up and HTTP.
  PK_CONFIG: { status: 500, retryable: false },
  PK_STARTUP: { status: 500, retryable: false },
  PK_INTERNAL: { status: 500, retryable: true },
  PK_NOT_FOUND: { status: 404, retryable: false },
  PK_UNAUTHORIZED: { status: 401, retryable: false },
  /** The admin listener answers only a Host that names it (DNS rebinding). */
  PK_ADMIN_HOST: { status: 421, retryable: false },
  PK_OVERLOADED: { status: 503, retryable: true },
  // Work on an instance.
  PK_QUEUE_FULL: { status: 503, retryable: true },
  PK_WAIT_TIMEOUT: { status: 503, retryable: true },
  PK_ATTACHMENT_LOST: { status: 503, retryable: true },
  PK_PAIR_BROKEN: { status: 409, retryable: false },
  PK_PREPARE_FAILED: { status: 500, retryable: false },
  /** A group whose warm pool has ReuseOnScaleIn: refused (see the README's warm pool section). */
  PK_WARM_POOL_REUSE: { status: 500, retryable: false },
  PK_FACTS_FILE: { status: 500, retryable: true },
  // Queue intake: a message body that can never become an event (left to the queue's redrive policy).
  PK_INTAKE_MALFORMED: { status: 400, retryable: false },
  PK_INTAKE_TOO_LARGE: { status: 413, retryable: false },
  // `pairkeeper pairs create` and `setup`: input they refuse before any change (exit 2), and what they cannot fix (exit 1).
  PK_SETUP_INPUT: { status: 400, retryable: false },
  PK_SETUP_BLOCKED: { status: 409, retryable: false },
  /** `pairkeeper status`: the admin listener did not answer, or refused. */
  PK_STATUS_UNREACHABLE: { status: 503, retryable: true },
  // Claims.
  PK_CLAIMS_STORE: { status: 503, retryable: true },
  PK_CLAIM_CORRUPT: { status: 500, retryable: false },
  PK_CLAIM_NAME: { status: 400, retryable: false },
  // AWS, as src/aws/aws-errors.ts classifies its answers.
  PK_AWS_RETRIES_EXHAUSTED: { status: 503, retryable: true },
  PK_AWS_UNAVAILABLE: { status: 503, retryable: true },
  PK_AWS_CREDENTIALS: { status: 503, retryable: true },
  /** Retryable: a new role or policy takes a while to reach every endpoint. */
  PK_AWS_DENIED: { status: 503, retryable: true },
  /** Retryable: "not found" is unknown, not gone (a new instance may not be visible yet). */
  PK_AWS_NOT_FOUND: { status: 503, retryable: true },
  PK_AWS_IN_USE: { status: 409, retryable: false },
  PK_AWS_ALREADY_EXISTS: { status: 409, retryable: false },
  PK_AWS_NO_ACTIVE_ACTION: { status: 409, retryable: false },
  PK_AWS_INVALID: { status: 400, retryable: false },
  PK_AWS_FAILED: { status: 500, retryable: false },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PairkeeperError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.status = ERROR_CODES[code].status;
  }
}

/** A configuration problem: start-up stops with this message. */
export class ConfigError extends PairkeeperError {
  constructor(message: string) {
    super('PK_CONFIG', message);
  }
}

export type SnsRejectionCode = keyof typeof SNS_REJECTIONS;

/** Why an SNS delivery was refused; its status is what SNS gets. */
export class SnsRejection extends PairkeeperError {
  readonly reason: string;
  constructor(code: SnsRejectionCode, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.reason = SNS_REJECTIONS[code].reason;
  }
}

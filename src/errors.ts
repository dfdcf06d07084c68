/**
 * Every error pairkeeper raises has a stable `code` (what logs, metrics and HTTP
 * answers carry) and says whether trying again could help.
 */
export class PairkeeperError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** A configuration problem: start-up stops with this message. */
export class ConfigError extends PairkeeperError {
  constructor(message: string) {
    super('PK_CONFIG', message, { retryable: false });
  }
}

/**
 * Why an SNS delivery was refused, and the status SNS gets: 4xx for input that
 * can never become valid (SNS drops it), 5xx only when a retry could succeed.
 */
export const SNS_REJECTIONS = {
  PK_SNS_MALFORMED: { status: 400, reason: 'malformed' },
  PK_SNS_HEADER_MISMATCH: { status: 400, reason: 'header_mismatch' },
  PK_SNS_BODY_TOO_LARGE: { status: 413, reason: 'too_large' },
  PK_SNS_TOPIC_NOT_ALLOWED: { status: 403, reason: 'topic_not_allowed' },
  PK_SNS_CERT_URL: { status: 403, reason: 'cert_url' },
  PK_SNS_SUBSCRIBE_URL: { status: 403, reason: 'subscribe_url' },
  PK_SNS_SIGNATURE_VERSION: { status: 403, reason: 'signature_version' },
  PK_SNS_BAD_SIGNATURE: { status: 403, reason: 'bad_signature' },
  PK_SNS_CERT_INVALID: { status: 403, reason: 'cert_invalid' },
  PK_SNS_STALE: { status: 403, reason: 'stale' },
  PK_SNS_FROM_FUTURE: { status: 403, reason: 'from_future' },
  PK_SNS_CERT_UNAVAILABLE: { status: 503, reason: 'cert_unavailable' },
  PK_SNS_CONFIRM_REFUSED: { status: 400, reason: 'confirm_refused' },
  PK_SNS_CONFIRM_FAILED: { status: 503, reason: 'confirm_failed' },
  PK_SNS_BUSY: { status: 503, reason: 'busy' },
} as const;

export type SnsRejectionCode = keyof typeof SNS_REJECTIONS;

export class SnsRejection extends PairkeeperError {
  readonly status: number;
  readonly reason: string;
  constructor(code: SnsRejectionCode, message: string, cause?: unknown) {
    const { status, reason } = SNS_REJECTIONS[code];
    super(code, message, { retryable: status >= 500, cause });
    this.status = status;
    this.reason = reason;
  }
}

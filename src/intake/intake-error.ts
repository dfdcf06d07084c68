import { PairkeeperError } from '../errors.ts';

/**
 * A queue message body that can never become an event: not JSON, not the shape it
 * claims, or too large. Terminal: the intake logs and counts it and leaves it to
 * the queue's redrive policy.
 */
export type IntakeErrorCode = 'PK_INTAKE_MALFORMED' | 'PK_INTAKE_TOO_LARGE';

export class IntakeMessageError extends PairkeeperError {
  constructor(code: IntakeErrorCode, message: string) {
    super(code, message);
  }
}

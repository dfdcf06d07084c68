/** An error the fake answers with, in the wire format of the service that raised it. */
export class FakeAwsError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'FakeAwsError';
    this.code = code;
    this.status = status;
  }
}

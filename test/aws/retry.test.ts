import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError, errorCode, isThrottle, isTransient, kindOf } from '../../src/aws/aws-errors.ts';
import { retry, type RetryPolicy } from '../../src/aws/retry.ts';
import { PairkeeperError } from '../../src/errors.ts';
import { seededRandom } from '../../fake-aws/random.ts';

/** An error shaped as the SDK raises a service error: the AWS code in `name`, the status in `$metadata`. */
function awsError(code: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${code} happened`), { name: code, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? 'server' : 'client' });
}

function nodeError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

/** Fails with `errors` in turn, then answers 'ok'. */
function failing(...errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: () => {
      const error = errors[calls++];
      return error === undefined ? Promise.resolve('ok') : Promise.reject(error);
    },
    calls: () => calls,
  };
}

describe('AWS error classification', () => {
  it('reads the code from SDK service errors, Node system errors and named errors', () => {
    assert.equal(errorCode(awsError('ParameterNotFound', 400)), 'ParameterNotFound');
    assert.equal(errorCode(nodeError('ECONNRESET')), 'ECONNRESET');
    assert.equal(errorCode(Object.assign(new Error('slow'), { name: 'TimeoutError' })), 'TimeoutError');
    assert.equal(errorCode(new PairkeeperError('PK_CLAIM_CORRUPT', 'x')), 'PK_CLAIM_CORRUPT');
    for (const nothing of [new Error('plain'), 'a string', undefined, null, 42]) assert.equal(errorCode(nothing), undefined);
  });

  it('knows the throttles of EC2, SSM and the other services, and HTTP 429', () => {
    for (const code of ['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'TooManyUpdates', 'RequestThrottled']) {
      assert.equal(isThrottle(awsError(code, 400)), true, code);
    }
    assert.equal(isThrottle(awsError('SomethingNew', 429)), true);
    assert.equal(isThrottle(Object.assign(awsError('SomethingNew', 400), { $retryable: { throttling: true } })), true);
    for (const code of ['ParameterAlreadyExists', 'VolumeInUse', 'ValidationException']) assert.equal(isThrottle(awsError(code, 400)), false, code);
  });

  it('treats 5xx, timeouts and network failures as transient, and nothing else', () => {
    assert.equal(isTransient(awsError('InternalServerError', 500)), true);
    assert.equal(isTransient(awsError('ServiceUnavailable', 503)), true);
    assert.equal(isTransient(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })), true);
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']) assert.equal(isTransient(nodeError(code)), true, code);
    assert.equal(isTransient(awsError('ValidationException', 400)), false);
    assert.equal(isTransient(awsError('TooManyUpdates', 400)), false);
    assert.equal(isTransient(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })), false);
    assert.equal(isTransient(new Error('bug')), false);
  });
});

describe('retry', () => {
  const fast: RetryPolicy = { attempts: 4, baseMs: 1, capMs: 2 };

  it('retries throttles and transient failures until the call succeeds', async () => {
    const call = failing(awsError('TooManyUpdates', 400), awsError('InternalServerError', 500), nodeError('ECONNRESET'));
    assert.equal(await retry(call.fn, fast), 'ok');
    assert.equal(call.calls(), 4);
  });

  it('throws any other error at once, unchanged', async () => {
    const notFound = awsError('ParameterNotFound', 400);
    const call = failing(notFound);
    await assert.rejects(retry(call.fn, fast), (err) => err === notFound);
    assert.equal(call.calls(), 1);
  });

  it('after the last attempt throws a retryable PairkeeperError naming the call and keeping the cause', async () => {
    const last = awsError('RequestLimitExceeded', 503);
    const call = failing(awsError('RequestLimitExceeded', 503), awsError('RequestLimitExceeded', 503), awsError('RequestLimitExceeded', 503), last);
    await assert.rejects(retry(call.fn, { ...fast, what: 'attaching vol-1' }), (err: unknown) => {
      assert.ok(err instanceof PairkeeperError);
      assert.equal(err.code, 'PK_AWS_RETRIES_EXHAUSTED');
      assert.equal(err.retryable, true);
      assert.equal(err.cause, last);
      assert.match(err.message, /^attaching vol-1 still failing after 4 attempts \(RequestLimitExceeded\)$/);
      return true;
    });
    assert.equal(call.calls(), 4);
  });

  it('waits with full jitter under an exponential, capped ceiling', async () => {
    const draws: number[] = [];
    const seeded = seededRandom(7);
    const random = () => {
      const r = seeded();
      draws.push(r);
      return r;
    };
    const waits: Array<{ attempt: number; delayMs: number }> = [];
    const call = failing(...Array.from({ length: 6 }, () => awsError('ThrottlingException', 400)));
    // Ceilings 1, 2, 4, 8, 8, 8 ms: doubling from baseMs, then held at capMs.
    await retry(call.fn, { attempts: 7, baseMs: 1, capMs: 8, random, onRetry: ({ attempt, delayMs }) => waits.push({ attempt, delayMs }) });
    const ceilings = [1, 2, 4, 8, 8, 8];
    assert.deepEqual(
      waits,
      ceilings.map((ceiling, i) => ({ attempt: i + 1, delayMs: Math.floor(draws[i]! * ceiling) })),
    );
  });

  it('stays under the ceiling at the largest draw, and waits not at all at the smallest', async () => {
    const waits = (random: () => number) => {
      const seen: number[] = [];
      const call = failing(awsError('Throttling', 400), awsError('Throttling', 400), awsError('Throttling', 400));
      return retry(call.fn, { attempts: 4, baseMs: 2, capMs: 5, random, onRetry: ({ delayMs }) => seen.push(delayMs) }).then(() => seen);
    };
    assert.deepEqual(await waits(() => 0.9999), [1, 3, 4]);
    assert.deepEqual(await waits(() => 0), [0, 0, 0]);
  });
});

describe('AWS error classification (the one table in src/aws/aws-errors.ts)', () => {
  // [what AWS answers, HTTP status, kind, PK code, whether the controller may try again later]
  const rows: [string, number, string, string, boolean][] = [
    ['RequestLimitExceeded', 503, 'throttled', 'PK_AWS_RETRIES_EXHAUSTED', true],
    ['TooManyUpdates', 400, 'throttled', 'PK_AWS_RETRIES_EXHAUSTED', true],
    ['InternalError', 500, 'transient', 'PK_AWS_UNAVAILABLE', true],
    ['CredentialsProviderError', 0, 'credentials', 'PK_AWS_CREDENTIALS', true],
    ['ExpiredTokenException', 400, 'credentials', 'PK_AWS_CREDENTIALS', true],
    ['AccessDeniedException', 400, 'denied', 'PK_AWS_DENIED', true],
    ['UnauthorizedOperation', 403, 'denied', 'PK_AWS_DENIED', true],
    ['InvalidInstanceID.NotFound', 400, 'not-found', 'PK_AWS_NOT_FOUND', true],
    ['ParameterNotFound', 400, 'not-found', 'PK_AWS_NOT_FOUND', true],
    ['InvalidSubnetID.NotFound', 400, 'not-found', 'PK_AWS_NOT_FOUND', true],
    ['NotFound', 404, 'not-found', 'PK_AWS_NOT_FOUND', true],
    ['VolumeInUse', 400, 'in-use', 'PK_AWS_IN_USE', false],
    ['ParameterAlreadyExists', 400, 'already-exists', 'PK_AWS_ALREADY_EXISTS', false],
    ['ValidationError', 400, 'no-active-action', 'PK_AWS_NO_ACTIVE_ACTION', false],
    ['InvalidParameterValue', 400, 'invalid', 'PK_AWS_INVALID', false],
    ['InvalidParameter', 400, 'invalid', 'PK_AWS_INVALID', false],
    ['InvalidSubnetID.Malformed', 400, 'invalid', 'PK_AWS_INVALID', false],
    ['SomethingNew', 400, 'unknown', 'PK_AWS_FAILED', false],
  ];
  for (const [code, status, kind, pkCode, retryable] of rows) {
    it(`${code} is ${kind}: ${pkCode}, ${retryable ? 'retryable' : 'terminal'}`, () => {
      // Credential providers throw named errors with no HTTP metadata.
      const err = status === 0 ? Object.assign(new Error('no credentials'), { name: code }) : awsError(code, status);
      assert.equal(kindOf(err), kind);
      const classified = new AwsError('the call', err);
      assert.equal(classified.code, pkCode);
      assert.equal(classified.retryable, retryable);
      assert.equal(classified.cause, err);
    });
  }

  it('reads "InvalidParameterValue … already in use" as the device taken on the instance', () => {
    const err = Object.assign(awsError('InvalidParameterValue', 400), { message: "Invalid value '/dev/sdf' for unixDevice. Attachment point /dev/sdf is already in use" });
    assert.equal(kindOf(err), 'device-in-use');
  });
});

import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { PutParameterCommand, SSMClient } from '../../src/aws/sdk/ssm.js';
import type { RetryPolicy } from '../../src/aws/retry.ts';
import { SsmClaimStore } from '../../src/claims/ssm-claim-store.ts';
import { PairkeeperError } from '../../src/errors.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { claim, claimStoreContract } from './claim-store-contract.ts';

/** Short waits so retries cost milliseconds. */
const FAST: RetryPolicy = { attempts: 5, baseMs: 1, capMs: 4 };

let aws: FakeAws;
before(async () => {
  aws = await startFakeAws();
});
after(() => aws.close());

/** A real SSMClient on the fake, with the SDK's own retries off so every call the store makes is counted once. */
function ssmClient(config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({ ...fakeAwsClientConfig(aws), ...config });
}

let prefixes = 0;

claimStoreContract('SsmClaimStore', () => {
  const client = ssmClient();
  const store = new SsmClaimStore({ client, prefix: `/contract/run${++prefixes}`, retry: FAST });
  return Promise.resolve({ store, close: () => Promise.resolve(client.destroy()) });
});

function rejectsWith(code: string, retryable: boolean, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof PairkeeperError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.retryable, retryable);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('SsmClaimStore against the fake SSM', () => {
  const prefix = '/pairkeeper';
  let client: SSMClient;
  let store: SsmClaimStore;
  let retries: string[];

  beforeEach(() => {
    aws.ssm.reset();
    aws.faults.clear();
    aws.faults.resetCounts();
    retries = [];
    client = ssmClient();
    store = new SsmClaimStore({ client, prefix, retry: { ...FAST, onRetry: ({ error }) => retries.push((error as Error).name) } });
  });
  afterEach(() => client.destroy());

  const raw = (name: string) => aws.ssm.parameters.get(name)?.value;

  it('stores a claim as JSON at prefix/group/nodeId, a String parameter', async () => {
    await store.create(claim('web', 'node-07', 'i-1'));
    const stored = aws.ssm.parameters.get('/pairkeeper/web/node-07');
    assert.equal(stored?.type, 'String');
    assert.deepEqual(JSON.parse(stored.value), claim('web', 'node-07', 'i-1'));
  });

  it('reads a claim an older version marked attached (claims are no longer rewritten once the pair is whole)', async () => {
    const old = claim('web', 'n1', 'i-1', 'attached');
    await client.send(new PutParameterCommand({ Name: '/pairkeeper/web/n1', Value: JSON.stringify(old), Type: 'String' }));
    assert.deepEqual(await store.get('web', 'n1'), old);
    assert.deepEqual(await store.list('web'), [old]);
  });

  for (const code of ['TooManyUpdates', 'ThrottlingException']) {
    it(`retries ${code} (HTTP 400) on PutParameter and then succeeds`, async () => {
      aws.faults.set('SSM', 'PutParameter', { failNext: 2, code, status: 400 });
      assert.equal(await store.create(claim('web', 'n1', 'i-1')), true);
      assert.equal(aws.faults.count('SSM', 'PutParameter'), 3);
      assert.deepEqual(retries, [code, code]);
    });
  }

  it('retries 5xx on reads, listing and deletes', async () => {
    await store.create(claim('web', 'n1', 'i-1'));
    for (const action of ['GetParameter', 'GetParametersByPath', 'DeleteParameter']) {
      aws.faults.set('SSM', action, { failNext: 1, code: 'InternalServerError', status: 500 });
    }
    assert.equal((await store.get('web', 'n1'))?.instanceId, 'i-1');
    assert.equal((await store.list()).length, 1);
    assert.equal(await store.release(claim('web', 'n1', 'i-1')), true);
    assert.equal(retries.length, 3);
  });

  it('gives up after the last attempt with a retryable error that keeps the cause', async () => {
    aws.faults.set('SSM', 'PutParameter', { failNext: 100, code: 'TooManyUpdates', status: 400 });
    await assert.rejects(store.create(claim('web', 'n1', 'i-1')), (err: unknown) => {
      rejectsWith('PK_AWS_RETRIES_EXHAUSTED', true, /creating claim \/pairkeeper\/web\/n1.*5 attempts.*TooManyUpdates/)(err);
      assert.equal(((err as Error).cause as Error).name, 'TooManyUpdates');
      return true;
    });
    assert.equal(aws.faults.count('SSM', 'PutParameter'), 5);
    assert.equal(raw('/pairkeeper/web/n1'), undefined);
  });

  it('does not retry a refusal at once, says which call failed, and leaves a denial to the controller to retry later', async () => {
    // AccessDenied while a new role or policy propagates: not retried in the tight loop, but not a reason to give up for good.
    aws.faults.set('SSM', 'GetParameter', { failNext: 1, code: 'AccessDeniedException', status: 400 });
    await assert.rejects(store.get('web', 'n1'), rejectsWith('PK_AWS_DENIED', true, /reading claim \/pairkeeper\/web\/n1.*AccessDeniedException/));
    assert.equal(aws.faults.count('SSM', 'GetParameter'), 1);
    // A request SSM will never accept is terminal.
    aws.faults.set('SSM', 'GetParameter', { failNext: 1, code: 'ValidationException', status: 400 });
    await assert.rejects(store.get('web', 'n1'), rejectsWith('PK_AWS_INVALID', false, /reading claim \/pairkeeper\/web\/n1.*ValidationException/));
    assert.equal(aws.faults.count('SSM', 'GetParameter'), 2);
  });

  for (const code of ['ExpiredTokenException', 'CredentialsProviderError']) {
    it(`retries ${code} (credentials being refreshed) like a throttle`, async () => {
      aws.faults.set('SSM', 'GetParameter', { failNext: 2, code, status: 400 });
      assert.equal(await store.get('web', 'n1'), undefined);
      assert.deepEqual(retries, [code, code]);
    });
  }

  describe('a parameter that is not a valid claim is a loud error, never "absent"', () => {
    const cases: Record<string, string> = {
      'not JSON': 'i-0123456789abcdef0',
      'not a claim': JSON.stringify({ instanceId: 'i-1' }),
      'an unknown state': JSON.stringify({ ...claim('web', 'n1', 'i-1'), state: 'maybe' }),
      'a claim for another name': JSON.stringify(claim('db', 'n1', 'i-1')),
    };
    for (const [what, value] of Object.entries(cases)) {
      it(what, async () => {
        await client.send(new PutParameterCommand({ Name: '/pairkeeper/web/n1', Value: value, Type: 'String' }));
        const corrupt = rejectsWith('PK_CLAIM_CORRUPT', false, /\/pairkeeper\/web\/n1/);
        await assert.rejects(store.get('web', 'n1'), corrupt);
        await assert.rejects(store.list(), corrupt);
        await assert.rejects(store.list('web'), corrupt);
        await assert.rejects(store.release(claim('web', 'n1', 'i-1')), corrupt);
        assert.equal(await store.create(claim('web', 'n1', 'i-2')), false);
        assert.equal(raw('/pairkeeper/web/n1'), value);
      });
    }
  });

  it('pages through more than ten claims, in order, and lists one group by its path', async () => {
    const expected = [];
    for (const group of ['db', 'web']) {
      for (let i = 0; i < 12; i++) expected.push(claim(group, `n${String(i).padStart(2, '0')}`, `i-${group}-${i}`));
    }
    for (const c of [...expected].reverse()) await store.create(c);
    aws.faults.resetCounts();

    assert.deepEqual(await store.list(), expected);
    assert.equal(aws.faults.count('SSM', 'GetParametersByPath'), 3);
    assert.deepEqual(await store.list('web'), expected.slice(12));
  });

  it('two replicas sharing SSM never both win a pair', async () => {
    const otherClient = ssmClient();
    const other = new SsmClaimStore({ client: otherClient, prefix, retry: FAST });
    try {
      const nodes = Array.from({ length: 20 }, (_, i) => `n${i}`);
      const outcomes = await Promise.all(
        nodes.map((n) => Promise.all([store.create(claim('web', n, `i-a-${n}`)), other.create(claim('web', n, `i-b-${n}`))])),
      );
      for (const [i, [a, b]] of outcomes.entries()) {
        assert.equal(Number(a) + Number(b), 1, `exactly one winner for ${nodes[i]}`);
        assert.equal((await other.get('web', nodes[i]!))?.instanceId, a ? `i-a-${nodes[i]}` : `i-b-${nodes[i]}`);
      }
    } finally {
      otherClient.destroy();
    }
  });

  it('keeps names inside the prefix, one level per group and NodeID, in characters SSM allows', async () => {
    const odd = [claim('a/b', 'c', 'i-1'), claim('a', 'b/c', 'i-2'), claim('..', '..', 'i-3'), claim('x', '../../etc', 'i-4'), claim('w_1', 'ü ~', 'i-5')];
    for (const c of odd) assert.equal(await store.create(c), true);
    assert.deepEqual(aws.ssm.parameters.all().map((p) => p.name), [
      '/pairkeeper/_2E_2E/_2E_2E',
      '/pairkeeper/a/b_2Fc',
      '/pairkeeper/a_2Fb/c',
      '/pairkeeper/w_5F1/_C3_BC_20_7E',
      '/pairkeeper/x/.._2F.._2Fetc',
    ]);
    assert.deepEqual((await store.list()).map((c) => c.instanceId), ['i-3', 'i-2', 'i-1', 'i-5', 'i-4']);
  });

  it('refuses an empty group or NodeID, and a prefix that is not an SSM path', async () => {
    await assert.rejects(store.create(claim('', 'n1', 'i-1')), rejectsWith('PK_CLAIM_NAME', false));
    await assert.rejects(store.get('web', ''), rejectsWith('PK_CLAIM_NAME', false));
    for (const bad of ['pairkeeper', '/pairkeeper/', '/pair keeper', '']) {
      assert.throws(() => new SsmClaimStore({ client, prefix: bad }), PairkeeperError);
    }
  });

  describe('a create whose first attempt failed', () => {
    /** A store that waits 400 ms before its retry, long enough for what `onRetry` sets going to land. */
    function slowRetryStore(onRetry: () => void, config: SSMClientConfig = {}): { store: SsmClaimStore; close(): void } {
      const slowClient = ssmClient(config);
      const policy: RetryPolicy = { attempts: 3, baseMs: 400, capMs: 400, random: () => 0.999, onRetry };
      return { store: new SsmClaimStore({ client: slowClient, prefix, retry: policy }), close: () => slowClient.destroy() };
    }

    it('answers true when SSM applied it but the answer was lost (the retry finds our own claim)', async () => {
      // Answered after the client gave up at 40 ms, but applied all the same.
      aws.faults.set('SSM', 'PutParameter', { latencyMs: 150 });
      const lost = slowRetryStore(() => aws.faults.clear(), { requestHandler: { requestTimeout: 40, throwOnRequestTimeout: true } });
      try {
        assert.equal(await lost.store.create(claim('web', 'n1', 'i-1')), true);
        assert.equal(aws.faults.count('SSM', 'PutParameter'), 2);
        assert.deepEqual(await store.get('web', 'n1'), claim('web', 'n1', 'i-1'));
      } finally {
        lost.close();
      }
    });

    it('answers false when a rival created the claim before the retry', async () => {
      aws.faults.set('SSM', 'PutParameter', { failNext: 1, code: 'InternalServerError', status: 500 });
      let rival: Promise<boolean> | undefined;
      const failed = slowRetryStore(() => {
        rival = store.create(claim('web', 'n1', 'i-rival'));
      });
      try {
        assert.equal(await failed.store.create(claim('web', 'n1', 'i-1')), false);
        assert.equal(await rival, true);
        assert.equal((await store.get('web', 'n1'))?.instanceId, 'i-rival');
      } finally {
        failed.close();
      }
    });
  });
});

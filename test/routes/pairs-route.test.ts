import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldsClosedAfterEach } from '../helpers/world.ts';

const start = worldsClosedAfterEach();

/**
 * `/v1/pairs` shares its reads (issue 12): an operator's dashboard polling it must not
 * turn each request into fresh Describe and claims-list calls that compete with
 * pairing for EC2's and Parameter Store's rate limits.
 */
describe('GET /v1/pairs under many requests', () => {
  it('200 requests at once cost at most 2 Describe calls of each kind and 2 claims lists', async () => {
    const w = await start({ claims: 'ssm' });
    await w.app.controller.resyncNow();
    await w.app.controller.idle();
    w.aws.faults.resetCounts();
    const answers = await Promise.all(Array.from({ length: 200 }, () => w.app.adminApp.inject({ url: '/v1/pairs' })));
    assert.ok(answers.every((a) => a.statusCode === 200 && a.json<{ pairs: unknown[] }>().pairs.length === w.seeded.pairs.length));
    assert.ok(w.aws.faults.count('EC2', 'DescribeVolumes') <= 2, `DescribeVolumes: ${w.aws.faults.count('EC2', 'DescribeVolumes')}`);
    assert.ok(w.aws.faults.count('EC2', 'DescribeNetworkInterfaces') <= 2, `DescribeNetworkInterfaces: ${w.aws.faults.count('EC2', 'DescribeNetworkInterfaces')}`);
    assert.ok(w.aws.faults.count('SSM', 'GetParametersByPath') <= 2, `GetParametersByPath: ${w.aws.faults.count('SSM', 'GetParametersByPath')}`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { worldsClosedAfterEach } from '../helpers/world.ts';

/**
 * `/readyz` on both listeners. The reason a resync failed is AWS's error text, which
 * names the account, the role and the instance pairkeeper runs on: the public
 * listener answers with the status alone, the admin listener keeps the reason.
 */
const start = worldsClosedAfterEach();
const DENIED = 'User: arn:aws:sts::123456789012:assumed-role/pairkeeper-role/i-0123456789abcdef0 is not authorized to perform: autoscaling:DescribeAutoScalingGroups';

describe('/readyz', () => {
  it('public: 503 with no reason; admin: 503 with the reason; both 200 once ready', async () => {
    const w = await start();
    w.aws.faults.set('AutoScaling', 'DescribeAutoScalingGroups', { errorRate: 1, code: 'AccessDenied', status: 403, message: DENIED });
    const replica = await w.addReplica();
    await replica.app.controller.resyncNow();

    const publicAnswer = await replica.app.publicApp.inject({ url: '/readyz' });
    assert.equal(publicAnswer.statusCode, 503);
    assert.deepEqual(publicAnswer.json(), { status: 'not ready' });
    for (const secret of ['123456789012', 'pairkeeper-role', 'i-0123456789abcdef0', 'AccessDenied']) assert.ok(!publicAnswer.body.includes(secret), secret);

    const adminAnswer = await replica.app.adminApp.inject({ url: '/readyz' });
    assert.equal(adminAnswer.statusCode, 503);
    assert.match(adminAnswer.json<{ reason: string }>().reason, /the last resync failed: .*pairkeeper-role/);

    w.aws.faults.clear();
    await replica.app.controller.resyncNow();
    assert.deepEqual((await replica.app.publicApp.inject({ url: '/readyz' })).json(), { status: 'ready' });
    assert.deepEqual((await replica.app.adminApp.inject({ url: '/readyz' })).json(), { status: 'ready' });
  });
});

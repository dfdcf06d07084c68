/**
 * The setup gateway's creates are safe to retry: an answer lost after EC2 created the
 * volume or ENI (a timeout) is retried with the same ClientToken, which EC2 answers
 * with what it created then, so a retried create never makes a second resource for
 * one NodeID. The local AWS here takes longer to answer than the client waits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient } from '../../src/aws/sdk/auto-scaling.js';
import { EC2Client } from '../../src/aws/sdk/ec2.js';
import { SNSClient } from '../../src/aws/sdk/sns.js';
import { SQSClient } from '../../src/aws/sdk/sqs.js';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { SetupGateway, type SetupClients } from '../../src/aws/setup-gateway.ts';

let aws: FakeAws;
let clients: SetupClients;

before(async () => {
  aws = await startFakeAws();
  // The client gives up before the fake answers; the fake still does the work, as AWS would.
  const config = { ...fakeAwsClientConfig(aws), requestHandler: { requestTimeout: 150, throwOnRequestTimeout: true } };
  clients = { ec2: new EC2Client(config), autoScaling: new AutoScalingClient(config), sns: new SNSClient(config), sqs: new SQSClient(config) };
});
after(async () => {
  clients.ec2.destroy();
  clients.autoScaling.destroy();
  clients.sns.destroy();
  clients.sqs.destroy();
  await aws.close();
});

describe('setup gateway: creates retried after a lost answer', () => {
  it('make one volume and one ENI per create, however many attempts time out', async () => {
    const gateway = new SetupGateway(clients);
    aws.faults.set('EC2', 'CreateVolume', { latencyMs: 300 });
    aws.faults.set('EC2', 'CreateNetworkInterface', { latencyMs: 300 });
    const tags = { NodeID: 'etcd-1', Service: 'etcd' };
    await assert.rejects(gateway.createVolume({ availabilityZone: 'us-east-1a', sizeGiB: 10, volumeType: 'gp3', encrypted: false, tags }));
    await assert.rejects(gateway.createNetworkInterface({ subnetId: aws.ec2.subnetFor('us-east-1a'), securityGroupIds: [], description: 'x', tags }));
    const attempts = aws.faults.count('EC2', 'CreateVolume');
    assert.ok(attempts > 1, `the create was retried (${attempts} attempts)`);
    // Every attempt reached the fake, which finishes each one after its latency.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(aws.ec2.volumes().filter((v) => v.tags.get('NodeID') === 'etcd-1').length, 1);
    assert.equal(aws.ec2.networkInterfaces().filter((e) => e.tags.get('NodeID') === 'etcd-1').length, 1);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateTagsCommand, DeleteTagsCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { FAKE_CREDENTIALS, startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { clientsFor } from '../../fake-aws/clients.ts';

/**
 * The fake's record of each call as IAM sees it, through the real SDK: the tags are
 * those before the call, a DeleteTags without keys carries no aws:TagKeys, the region
 * is the one the request was signed for, ARNs carry the region's partition.
 */
describe('fake AWS call recorder', () => {
  let aws: FakeAws;
  before(async () => {
    aws = await startFakeAws({ region: 'cn-north-1', recordCalls: true });
  });
  after(() => aws.close());

  it('records action, signed region and signer, resources with their tags before the call, and the request tag keys', async () => {
    const { ec2, ssm } = clientsFor(aws.url, 'cn-north-1');
    const volume = aws.ec2.createVolume({ availabilityZone: 'cn-north-1a', tags: { NodeID: 'n1', Service: 'etcd' } });
    const arn = `arn:aws-cn:ec2:cn-north-1:${aws.accountId}:volume/${volume.volumeId}`;
    aws.calls.reset();
    await ec2.send(new DescribeVolumesCommand({}));
    await ec2.send(new CreateTagsCommand({ Resources: [volume.volumeId], Tags: [{ Key: 'pairkeeper:instance-id', Value: 'i-1' }] }));
    await ec2.send(new DeleteTagsCommand({ Resources: [volume.volumeId] }));
    await ssm.send(new GetParameterCommand({ Name: '/pairkeeper/etcd/n1' })).catch(() => undefined);

    const [describe, create, remove, get] = aws.calls.calls();
    const accessKeyId = FAKE_CREDENTIALS.accessKeyId;
    assert.deepEqual(describe, { action: 'ec2:DescribeVolumes', region: 'cn-north-1', accessKeyId, resources: [], requestKeys: {} });
    assert.deepEqual(create, {
      action: 'ec2:CreateTags',
      region: 'cn-north-1',
      accessKeyId,
      resources: [{ arn, tags: { NodeID: 'n1', Service: 'etcd' } }],
      requestKeys: { 'aws:TagKeys': ['pairkeeper:instance-id'], 'aws:RequestTag/pairkeeper:instance-id': 'i-1' },
    });
    assert.deepEqual(remove, {
      action: 'ec2:DeleteTags',
      region: 'cn-north-1',
      accessKeyId,
      resources: [{ arn, tags: { NodeID: 'n1', Service: 'etcd', 'pairkeeper:instance-id': 'i-1' } }],
      requestKeys: {},
    });
    assert.equal(volume.tags.size, 0, 'and the DeleteTags without keys did delete every tag');
    assert.deepEqual(get?.resources, [{ arn: `arn:aws-cn:ssm:cn-north-1:${aws.accountId}:parameter/pairkeeper/etcd/n1`, tags: {} }], 'a call that fails is recorded too: IAM decides first');
  });

  it('records nothing unless asked', async () => {
    const quiet = await startFakeAws();
    try {
      await clientsFor(quiet.url).ec2.send(new DescribeVolumesCommand({}));
      assert.deepEqual(quiet.calls.calls(), []);
    } finally {
      await quiet.close();
    }
  });
});

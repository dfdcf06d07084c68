import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAutoScalingMessage } from '../../src/sns/autoscaling-message.ts';

const dir = new URL('../../src/sns/samples/', import.meta.url);
const sample = (name: string) => readFileSync(new URL(`${name}.json`, dir), 'utf8');
const withField = (name: string, patch: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(sample(name)), ...patch });

describe('parseAutoScalingMessage', () => {
  it('parses every sample into its kind', () => {
    const kinds = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => [f, parseAutoScalingMessage(readFileSync(new URL(f, dir), 'utf8')).kind]),
    );
    assert.deepEqual(kinds, {
      'launch.json': 'launch',
      'launch-error.json': 'launch-error',
      'terminate.json': 'terminate',
      'test-notification.json': 'test',
      'lifecycle-launching.json': 'lifecycle-launching',
      'lifecycle-terminating.json': 'lifecycle-terminating',
    });
  });

  it('takes the ids and placement of a launch', () => {
    assert.deepEqual(parseAutoScalingMessage(sample('launch')), {
      kind: 'launch',
      group: 'etcd',
      time: '2017-03-20T11:30:40.246Z',
      instanceId: 'i-0c55bedeb30ef1f08',
      availabilityZone: 'eu-west-1a',
      subnetId: 'subnet-a1b2c3d4',
      activityId: '4e50ac14-2d21-4d91-a7cd-1f184f2b73d1',
      statusMessage: undefined,
      origin: undefined,
      destination: undefined,
    });
  });

  it('a launch error has no instance', () => {
    const event = parseAutoScalingMessage(sample('launch-error'));
    assert.equal(event.kind, 'launch-error');
    assert.equal(event.kind === 'launch-error' && event.instanceId, undefined);
  });

  it('takes hook name, token and metadata of a lifecycle message', () => {
    const event = parseAutoScalingMessage(sample('lifecycle-launching'));
    assert.equal(event.kind, 'lifecycle-launching');
    if (event.kind !== 'lifecycle-launching') return;
    assert.equal(event.hookName, 'pairkeeper-launch');
    assert.equal(event.token, '71514b9d-6a40-4b26-8523-05e7eEXAMPLE');
    assert.equal(event.metadata, '{"cluster":"etcd-prod"}');
    assert.deepEqual([event.origin, event.destination], ['EC2', 'AutoScalingGroup']);
  });

  const unknowns: [string, string, RegExp][] = [
    ['text', 'hello', /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['no group', withField('launch', { AutoScalingGroupName: undefined }), /AutoScalingGroupName/],
    ['a launch without instance', withField('launch', { EC2InstanceId: '' }), /without EC2InstanceId/],
    ['an instance id that is not one', withField('terminate', { EC2InstanceId: 'i-../../etc' }), /not an instance id/],
    ['a new event type', withField('launch', { Event: 'autoscaling:EC2_INSTANCE_REFRESH' }), /unhandled Event/],
    ['a lifecycle message without token', withField('lifecycle-launching', { LifecycleActionToken: undefined }), /LifecycleActionToken/],
    ['a new transition', withField('lifecycle-launching', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_WARMING' }), /unhandled LifecycleTransition/],
    ['a non-string field', withField('launch', { EC2InstanceId: 42 }), /without EC2InstanceId/],
  ];
  for (const [what, message, reason] of unknowns) {
    it(`${what} is unknown, with a reason`, () => {
      const event = parseAutoScalingMessage(message);
      assert.equal(event.kind, 'unknown');
      assert.match(event.kind === 'unknown' ? event.reason : '', reason);
    });
  }
});

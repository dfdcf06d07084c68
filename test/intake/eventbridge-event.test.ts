import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { looksLikeEventBridgeEvent, MAX_EVENT_BYTES, parseEventBridgeEvent } from '../../src/intake/eventbridge-event.ts';
import { IntakeMessageError } from '../../src/intake/intake-error.ts';

const dir = new URL('../../src/intake/samples/', import.meta.url);
const sample = (name: string): string => readFileSync(new URL(`${name}.json`, dir), 'utf8');
type Json = Record<string, unknown>;
/** The sample with envelope fields replaced (undefined removes one). */
const withEnvelope = (name: string, patch: Json) => JSON.stringify({ ...(JSON.parse(sample(name)) as Json), ...patch });
/** The sample with detail fields replaced. */
const withDetail = (name: string, patch: Json) => {
  const event = JSON.parse(sample(name)) as Json;
  return JSON.stringify({ ...event, detail: { ...(event.detail as Json), ...patch } });
};

describe('parseEventBridgeEvent', () => {
  it('parses every sample into its kind, with Origin and Destination', () => {
    const parsed = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => {
          const event = parseEventBridgeEvent(readFileSync(new URL(f, dir), 'utf8'));
          const movement = 'origin' in event ? `${event.origin ?? '-'}→${event.destination ?? '-'}` : '';
          return [f, `${event.kind} ${movement}`.trim()];
        }),
    );
    assert.deepEqual(parsed, {
      'launch-successful.json': 'launch -→-',
      'launch-unsuccessful.json': 'launch-error -→-',
      'terminate-successful.json': 'terminate -→-',
      'lifecycle-launching.json': 'lifecycle-launching EC2→AutoScalingGroup',
      'lifecycle-launching-into-warm-pool.json': 'lifecycle-launching EC2→WarmPool',
      'lifecycle-launching-from-warm-pool.json': 'lifecycle-launching WarmPool→AutoScalingGroup',
      'lifecycle-terminating.json': 'lifecycle-terminating AutoScalingGroup→EC2',
      'lifecycle-terminating-to-warm-pool.json': 'lifecycle-terminating AutoScalingGroup→WarmPool',
      'state-change.json': 'state-change',
    });
  });

  it('gives a launch the same fields the SNS path gives it', () => {
    assert.deepEqual(parseEventBridgeEvent(sample('launch-successful')), {
      kind: 'launch',
      group: 'my-asg',
      time: '2021-02-01T17:19:40Z',
      instanceId: 'i-1234567890abcdef0',
      availabilityZone: 'us-west-2b',
      subnetId: 'subnet-12345678',
      activityId: '87654321-4321-4321-4321-210987654321',
      statusMessage: undefined,
      origin: undefined,
      destination: undefined,
    });
  });

  it('takes hook, token, metadata and movement of a lifecycle action', () => {
    assert.deepEqual(parseEventBridgeEvent(sample('lifecycle-launching-from-warm-pool')), {
      kind: 'lifecycle-launching',
      group: 'my-asg',
      time: '2021-01-19T00:35:52.359Z',
      instanceId: 'i-1234567890abcdef0',
      hookName: 'my-launch-lifecycle-hook',
      token: '19cc4d4a-e450-4d1c-b448-0de67EXAMPLE',
      metadata: 'additional-info',
      origin: 'WarmPool',
      destination: 'AutoScalingGroup',
    });
  });

  it('turns an EC2 state change into a trigger naming the instance and state', () => {
    assert.deepEqual(parseEventBridgeEvent(sample('state-change')), {
      kind: 'state-change',
      instanceId: 'i-1234567890abcdef0',
      state: 'stopped',
      time: '2021-11-11T21:29:54Z',
    });
  });

  it('tells EventBridge events from other bodies', () => {
    assert.ok(looksLikeEventBridgeEvent(JSON.parse(sample('state-change'))));
    assert.ok(!looksLikeEventBridgeEvent({ Type: 'Notification', Message: '{}' }));
    assert.ok(!looksLikeEventBridgeEvent({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH' }));
    assert.ok(!looksLikeEventBridgeEvent(null));
  });

  const refused: [string, string, string, RegExp][] = [
    ['text', 'hello', 'PK_INTAKE_MALFORMED', /not JSON/],
    ['an array', '[]', 'PK_INTAKE_MALFORMED', /not a JSON object/],
    ['another version', withEnvelope('launch-successful', { version: '1' }), 'PK_INTAKE_MALFORMED', /version/],
    ['no id', withEnvelope('launch-successful', { id: undefined }), 'PK_INTAKE_MALFORMED', /id/],
    ['an id with a newline', withEnvelope('launch-successful', { id: 'a\nb' }), 'PK_INTAKE_MALFORMED', /id/],
    ['no detail-type', withEnvelope('launch-successful', { 'detail-type': undefined }), 'PK_INTAKE_MALFORMED', /detail-type/],
    ['a huge detail-type', withEnvelope('launch-successful', { 'detail-type': 'x'.repeat(129) }), 'PK_INTAKE_MALFORMED', /detail-type/],
    ['a bad account', withEnvelope('launch-successful', { account: '12345' }), 'PK_INTAKE_MALFORMED', /account/],
    ['a bad region', withEnvelope('launch-successful', { region: 'mars' }), 'PK_INTAKE_MALFORMED', /region/],
    ['a time that is no date', withEnvelope('launch-successful', { time: 'yesterday' }), 'PK_INTAKE_MALFORMED', /time/],
    ['too many resources', withEnvelope('launch-successful', { resources: Array(21).fill('arn') }), 'PK_INTAKE_MALFORMED', /resources/],
    ['a detail that is a string', withEnvelope('launch-successful', { detail: '{}' }), 'PK_INTAKE_MALFORMED', /detail/],
    [
      'a body over 256 KiB',
      withDetail('launch-successful', { Cause: 'x'.repeat(MAX_EVENT_BYTES) }),
      'PK_INTAKE_TOO_LARGE',
      /over 262144 bytes/,
    ],
  ];
  for (const [what, body, code, message] of refused) {
    it(`refuses ${what} with ${code}`, () => {
      assert.throws(
        () => parseEventBridgeEvent(body),
        (err: unknown) => err instanceof IntakeMessageError && err.code === code && message.test(err.message) && !err.retryable,
      );
    });
  }

  const unknowns: [string, string, RegExp][] = [
    ['another source', withEnvelope('launch-successful', { source: 'my.app' }), /unhandled source my\.app/],
    ['a state change from a forged source', withEnvelope('state-change', { source: 'aws.autoscaling' }), /AutoScalingGroupName/],
    ['an unhandled detail-type', withEnvelope('launch-successful', { 'detail-type': 'EC2 Auto Scaling Instance Refresh Started' }), /unhandled detail-type/],
    ['no group', withDetail('launch-successful', { AutoScalingGroupName: undefined }), /AutoScalingGroupName/],
    ['a group name with a control character', withDetail('launch-successful', { AutoScalingGroupName: 'a\u0000b' }), /AutoScalingGroupName/],
    ['a group name over 255 characters', withDetail('launch-successful', { AutoScalingGroupName: 'g'.repeat(256) }), /AutoScalingGroupName/],
    ['an instance id that is not one', withDetail('terminate-successful', { EC2InstanceId: 'i-../../etc' }), /not an instance id/],
    ['a lifecycle action without token', withDetail('lifecycle-launching', { LifecycleActionToken: undefined }), /LifecycleActionToken/],
    ['a token too long', withDetail('lifecycle-launching', { LifecycleActionToken: 'a'.repeat(65) }), /LifecycleActionToken/],
    ['a transition that contradicts the detail-type', withDetail('lifecycle-launching', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }), /LifecycleTransition/],
    ['an unknown Origin', withDetail('lifecycle-launching', { Origin: 'Moon' }), /Origin "Moon"/],
    ['metadata over 1023 characters', withDetail('lifecycle-launching', { NotificationMetadata: 'm'.repeat(1024) }), /NotificationMetadata/],
    ['a state change without instance', withDetail('state-change', { 'instance-id': 42 }), /instance-id/],
    ['a state change to an unknown state', withDetail('state-change', { state: 'exploded' }), /unknown state/],
  ];
  for (const [what, body, reason] of unknowns) {
    it(`${what} is unknown, with a reason`, () => {
      const event = parseEventBridgeEvent(body);
      assert.equal(event.kind, 'unknown');
      assert.match(event.kind === 'unknown' ? event.reason : '', reason);
    });
  }

  it('keeps free text only up to its bound and a hostile value out of the reason', () => {
    const event = parseEventBridgeEvent(withDetail('launch-unsuccessful', { StatusMessage: 's'.repeat(5000) }));
    assert.equal(event.kind === 'launch-error' && event.statusMessage?.length, 1024);
    const hostile = parseEventBridgeEvent(withDetail('terminate-successful', { EC2InstanceId: `i-\u001b[31m${'x'.repeat(500)}` }));
    const reason = hostile.kind === 'unknown' ? hostile.reason : '';
    assert.ok(reason.length < 200 && !reason.includes('\u001b'), reason);
  });

  it('drops a malformed AZ or subnet rather than keeping it', () => {
    const event = parseEventBridgeEvent(withDetail('launch-successful', { Details: { 'Availability Zone': '<script>', 'Subnet ID': 'subnet-../x' } }));
    assert.equal(event.kind, 'launch');
    assert.deepEqual(event.kind === 'launch' && [event.availabilityZone, event.subnetId], [undefined, undefined]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PREPARED_TAG } from '../../src/domain/pairs.ts';
import type { VolumeInfo } from '../../src/domain/pairs.ts';
import { scriptTarget } from '../../src/volume-prep/volume-preparer.ts';

/**
 * What the preparation script is told about a volume, from EC2's view of it: the
 * attachment's own device, and MAY_FORMAT=0 for any volume that may hold data the
 * script cannot see (made from a snapshot, or prepared before, on any instance).
 */
const INSTANCE = 'i-0abc1234def567890';

function volume(extra: Partial<VolumeInfo> = {}): VolumeInfo {
  return {
    volumeId: 'vol-0123456789abcdef0',
    availabilityZone: 'us-east-1a',
    state: 'in-use',
    tags: { NodeID: 'node-1' },
    attachment: { instanceId: INSTANCE, state: 'attached', device: '/dev/sdh' },
    ...extra,
  };
}

describe('scriptTarget', () => {
  it("gives the attachment's device, and may format a volume created empty and never prepared", () => {
    assert.deepEqual(scriptTarget(INSTANCE, volume()), { instanceId: INSTANCE, volumeId: 'vol-0123456789abcdef0', device: '/dev/sdh', mayFormat: true });
  });

  it('never formats a volume created from a snapshot', () => {
    assert.equal(scriptTarget(INSTANCE, volume({ snapshotId: 'snap-0123456789abcdef0' })).mayFormat, false);
  });

  it(`never formats a volume that carries ${PREPARED_TAG}, whichever instance it names`, () => {
    assert.equal(scriptTarget(INSTANCE, volume({ tags: { NodeID: 'node-1', [PREPARED_TAG]: 'i-0fedcba9876543210' } })).mayFormat, false);
    assert.equal(scriptTarget(INSTANCE, volume({ tags: { [PREPARED_TAG]: '' } })).mayFormat, false);
  });

  it('refuses a volume EC2 does not show attached to the instance with a device', () => {
    const refused = { code: 'PK_PREPARE_FAILED', message: /EC2 shows no device for vol-0123456789abcdef0 on i-0abc1234def567890/ };
    assert.throws(() => scriptTarget(INSTANCE, volume({ attachment: { instanceId: 'i-0fedcba9876543210', state: 'attached', device: '/dev/sdf' } })), refused);
    assert.throws(() => scriptTarget(INSTANCE, volume({ attachment: { instanceId: INSTANCE, state: 'attached' } })), refused);
    assert.throws(() => scriptTarget(INSTANCE, volume({ attachment: undefined })), refused);
  });
});

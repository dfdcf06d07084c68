import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPairs, pairStatus } from '../../src/domain/inventory.ts';
import type { Attachment, Claim } from '../../src/domain/pairs.ts';
import { buildFacts } from '../../src/notify/facts.ts';

/**
 * /v1/pairs (pairStatus) and /v1/facts (buildFacts) must agree on which nodes hold
 * their pair, in every state a crash or a race can leave: every combination of
 * volume attachment, ENI attachment and claim.
 */
const ATTACHMENTS: (Attachment | undefined)[] = [
  undefined,
  { instanceId: 'i-1', state: 'attaching' },
  { instanceId: 'i-1', state: 'attached' },
  { instanceId: 'i-1', state: 'detaching' },
  { instanceId: 'i-2', state: 'attached' },
];
const CLAIMS: (Omit<Claim, 'group' | 'nodeId' | 'since' | 'updatedAt'> | undefined)[] = [
  undefined,
  { instanceId: 'i-1', state: 'claimed' },
  { instanceId: 'i-1', state: 'attached' },
  { instanceId: 'i-2', state: 'attached' },
];

describe('one definition of "attached"', () => {
  it('/v1/pairs says attached exactly when /v1/facts lists the node, in all 100 states', () => {
    let attached = 0;
    for (const volumeAttachment of ATTACHMENTS) {
      for (const eniAttachment of ATTACHMENTS) {
        for (const c of CLAIMS) {
          const volume = { volumeId: 'vol-1', availabilityZone: 'a', state: volumeAttachment ? 'in-use' : 'available', tags: { NodeID: 'n1' }, attachment: volumeAttachment };
          const eni = { networkInterfaceId: 'eni-1', availabilityZone: 'a', status: 'in-use', privateIpAddress: '10.0.0.1', tags: { NodeID: 'n1' }, attachment: eniAttachment };
          const pairs = buildPairs('g', 'NodeID', [volume], [eni]);
          const claims: Claim[] = c ? [{ group: 'g', nodeId: 'n1', since: 't', updatedAt: 't', ...c }] : [];
          const status = pairStatus(pairs[0]!, claims[0]).status;
          const facts = buildFacts([{ name: 'g', volumeDevice: '/dev/sdf', pairs, claims }]);
          const listed = facts.groups.g?.nodes.n1 !== undefined;
          assert.equal(status === 'attached', listed, JSON.stringify({ volumeAttachment, eniAttachment, c, status, listed }));
          if (listed) attached++;
        }
      }
    }
    // Only both attached to i-1 with a claim of i-1 (its state field, "claimed" or an older
    // version's "attached", is not read: EC2 says attached), and both on i-2 with i-2's claim.
    assert.equal(attached, 3);
  });
});

/**
 * Watches the invariants while a test runs, not only at its end: every few
 * milliseconds it reads the fake EC2 (checkPairs) and keeps what it saw broken.
 * A volume without its ENI is the normal state between the two attaches (and what a
 * crash there leaves), so only the unsafe side of a split counts: an ENI on an
 * instance that does not hold its volume, unless EC2 says that instance is going.
 * A pair on two instances and an instance with parts of two pairs always count.
 */
import { checkPairs } from '../../fake-aws/ec2/pair-check.ts';
import type { FakeAws } from '../../fake-aws/index.ts';

export interface InvariantWatch {
  /** Stops watching; what was seen broken, once per distinct finding, in order. */
  stop(): string[];
}

export function watchInvariants(aws: FakeAws, everyMs = 5): InvariantWatch {
  const seen = new Set<string>();
  const look = () => {
    const check = checkPairs(aws);
    for (const h of check.split) {
      const going = ['shutting-down', 'terminated'].includes(aws.ec2.instance(h.instanceId)?.state ?? '');
      if (h.networkInterfaceIds.length > 0 && !going) seen.add(`split: ENI of ${h.nodeId} on ${h.instanceId} without its volume`);
    }
    for (const d of check.double) seen.add(`double: ${d.nodeId} on ${d.holders.map((h) => h.instanceId).join(' and ')}`);
    for (const g of check.greedy) seen.add(`greedy: ${g.instanceId} holds parts of ${g.nodeIds.join(', ')}`);
  };
  look();
  const timer = setInterval(look, everyMs);
  // A test that fails before stop() must not keep its file's process alive (the runner would wait for ever).
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      look();
      return [...seen];
    },
  };
}

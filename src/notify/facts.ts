/**
 * The cluster facts: every node that holds its pair right now, per group, in the
 * spirit of aot's /etc/cluster_facts.json (node name → IP and a few other things),
 * so bootstrap scripts and Salt states find their peers without asking AWS:
 *
 *   {"generatedAt":"2025-05-01T12:00:03.123Z","groups":{"etcd":{"nodes":{
 *     "1":{"instanceId":"i-0abc…","privateIp":"10.0.1.11","volumeId":"vol-01…","device":"/dev/sdf",
 *          "networkInterfaceId":"eni-0f…","availabilityZone":"eu-west-1a"}}}}}
 *
 * `device` is the name EC2 attached the volume under; on Nitro instances the disk
 * shows up as /dev/nvme*n1 instead, found by the volume id (without the hyphen) as
 * its serial under /dev/disk/by-id/.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { holdsPair } from '../domain/attachment.ts';
import { compareCodeUnits, compareNodeIds } from '../domain/text-order.ts';
import type { Claim, Pair } from '../domain/pairs.ts';
import { PairkeeperError } from '../errors.ts';

export interface NodeFacts {
  instanceId: string;
  privateIp: string | null;
  volumeId: string;
  device: string;
  networkInterfaceId: string;
  availabilityZone: string;
}

export interface ClusterFacts {
  generatedAt: string;
  groups: Record<string, { nodes: Record<string, NodeFacts> }>;
}

export interface GroupFactsInput {
  name: string;
  /** The group's configured device, for a volume whose attachment does not name one. */
  volumeDevice: string;
  pairs: Pair[];
  claims: Claim[];
}

/**
 * A pair is a node only when its claim says attached and EC2 agrees: the volume and
 * the ENI are both attached to the claim's instance. A pair mid-attach, mid-release
 * or held without a claim is left out: facts list what is, not what is meant to be.
 * Keys are inserted in sorted order (groups by name, nodes as people count), so the
 * same state always gives the same text.
 */
export function buildFacts(groups: GroupFactsInput[], now: Date = new Date()): ClusterFacts {
  const out: ClusterFacts['groups'] = {};
  for (const group of [...groups].sort((a, b) => compareCodeUnits(a.name, b.name))) {
    const claims = new Map(group.claims.filter((c) => c.group === group.name).map((c) => [c.nodeId, c]));
    const nodes: Record<string, NodeFacts> = {};
    for (const pair of [...group.pairs].sort((a, b) => compareNodeIds(a.nodeId, b.nodeId))) {
      const claim = claims.get(pair.nodeId);
      const { volume, eni } = pair;
      if (!holdsPair(pair, claim) || !volume || !eni) continue;
      nodes[pair.nodeId] = {
        instanceId: claim.instanceId,
        privateIp: eni.privateIpAddress ?? null,
        volumeId: volume.volumeId,
        device: volume.attachment?.device ?? group.volumeDevice,
        networkInterfaceId: eni.networkInterfaceId,
        availabilityZone: volume.availabilityZone,
      };
    }
    out[group.name] = { nodes };
  }
  return { generatedAt: now.toISOString(), groups: out };
}

/**
 * The facts file. Written atomically (a reader never sees half of it) and only when
 * the facts changed, generatedAt aside: a resync every minute that finds nothing
 * new touches nothing, so whatever watches the file (a Salt beacon, inotify, a
 * cron diff) fires on real changes only. Readable by all (0644): bootstrap scripts
 * read it, and it holds nothing secret. Writes are serialised.
 */
export class FactsFile {
  private readonly path: string;
  /** What the file holds, generatedAt aside; undefined until read or written. */
  private current: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** Writes the facts if they differ from the file's; true when it wrote. */
  write(facts: ClusterFacts): Promise<boolean> {
    const run = this.queue.then(async () => {
      const content = comparable(facts);
      if ((this.current ??= await this.readComparable()) === content) return false;
      try {
        await writeFileAtomic(this.path, `${JSON.stringify(facts, null, 2)}\n`, 0o644);
      } catch (err) {
        throw new PairkeeperError('PK_FACTS_FILE', `cannot write cluster facts file ${this.path}`, { cause: err });
      }
      this.current = content;
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The file as it is (from before a restart, say), so an unchanged state is not rewritten. '' when missing or unreadable. */
  private async readComparable(): Promise<string> {
    try {
      return comparable(JSON.parse(await readFile(this.path, 'utf8')) as ClusterFacts);
    } catch {
      return '';
    }
  }
}

function comparable(facts: ClusterFacts): string {
  return JSON.stringify(facts.groups ?? null);
}

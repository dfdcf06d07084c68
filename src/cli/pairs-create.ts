/**
 * `pairkeeper pairs create`: its options as a PairsCreateInput. What the options alone
 * can get wrong (--count without --prefix, a size that is not a number, a tag without
 * "=") is refused here, before the config's group and filters are even looked at.
 */
import { SetupInputError, type PairsCreateInput } from '../setup/run.ts';

export interface PairsCreateOptions {
  group?: string | undefined;
  nodes?: string | undefined;
  count?: string | undefined;
  prefix?: string | undefined;
  subnets?: string | undefined;
  size?: string | undefined;
  type?: string | undefined;
  iops?: string | undefined;
  throughput?: string | undefined;
  encrypted?: boolean | undefined;
  'kms-key'?: string | undefined;
  'security-groups'?: string | undefined;
  tag?: string[] | undefined;
}

export function pairsCreateInput(o: PairsCreateOptions): PairsCreateInput {
  if (o.group === undefined) throw new SetupInputError('--group NAME is required');
  if ((o.nodes === undefined) === (o.count === undefined)) throw new SetupInputError('give either --nodes a,b,c or --count N --prefix P');
  if ((o.count === undefined) !== (o.prefix === undefined)) throw new SetupInputError('--count and --prefix go together');
  const count = o.count === undefined ? undefined : positive(o.count, '--count', 1000);
  const nodeIds = count === undefined ? list(o.nodes) : Array.from({ length: count }, (_, i) => `${o.prefix!}${i + 1}`);
  if (o.size === undefined) throw new SetupInputError('--size GiB is required (the size of each new volume)');
  const kmsKeyId = o['kms-key'];
  return {
    group: o.group,
    nodeIds,
    subnetIds: list(o.subnets),
    volume: {
      sizeGiB: positive(o.size, '--size', 65_536),
      volumeType: o.type ?? 'gp3',
      iops: o.iops === undefined ? undefined : positive(o.iops, '--iops', 256_000),
      throughput: o.throughput === undefined ? undefined : positive(o.throughput, '--throughput', 4000),
      // A KMS key means encryption: EC2 refuses KmsKeyId without Encrypted.
      encrypted: (o.encrypted ?? false) || kmsKeyId !== undefined,
      kmsKeyId,
    },
    securityGroupIds: list(o['security-groups']),
    extraTags: tags(o.tag ?? []),
  };
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function positive(text: string, option: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new SetupInputError(`${option} ${text}: expected a whole number from 1 to ${max}`);
  return n;
}

function tags(given: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of given) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new SetupInputError(`--tag ${t}: expected KEY=VALUE`);
    out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

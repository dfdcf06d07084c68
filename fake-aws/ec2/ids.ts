import { randomBytes } from 'node:crypto';

/** An id shaped like EC2's current long ids: prefix, hyphen, 17 lowercase hex digits. */
export function ec2Id(prefix: 'i' | 'r' | 'vol' | 'eni' | 'eni-attach' | 'subnet' | 'vpc' | 'sg'): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** A locally administered unicast MAC, as EC2 gives ENIs (`02:…`). */
export function macAddress(): string {
  return ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** EC2 accepts the old 8-digit ids and the 17-digit ones; anything else is `Malformed`. */
export function isWellFormedId(prefix: string, id: string): boolean {
  return new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id);
}

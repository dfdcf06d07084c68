/** Bytes on disk images for the volume-preparation tests: write at an offset, recognisable noise, a hash to prove nothing changed. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export function writeAt(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Bytes that look random but are the same on every run (no chance hit on a real signature). */
export function noise(length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < length; i++) chunks.push(createHash('sha256').update(`noise ${i}`).digest());
  return Buffer.concat(chunks).subarray(0, length);
}

export const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

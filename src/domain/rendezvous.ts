/**
 * Rendezvous (highest random weight) order: each candidate scored by a hash of (key,
 * candidate), highest first. Two replicas handling different instances start at
 * different pairs, so they rarely race for one claim; two replicas handling the same
 * instance (one message delivered to both) start at the same pair, so the loser of
 * that one create learns at once that the instance is taken care of. Removing a
 * candidate changes no other candidate's place, unlike a rotation of a sorted list.
 */
import { compareCodeUnits } from './text-order.ts';

export function rendezvousOrder<T>(candidates: readonly T[], key: string, idOf: (candidate: T) => string): T[] {
  return candidates
    .map((c) => ({ c, id: idOf(c), score: fnv1a(`${key}\u0000${idOf(c)}`) }))
    .sort((a, b) => b.score - a.score || compareCodeUnits(a.id, b.id))
    .map((s) => s.c);
}

/** 32-bit FNV-1a, mixed once more so close keys spread: cheap, stable across processes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

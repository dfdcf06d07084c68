/**
 * What pairkeeper tells the world (webhooks, commands) about its work. One event
 * per fact; `id` is made once, when the fact happens, and every retry of every
 * delivery carries the same one, so a receiver can drop duplicates.
 *
 * A webhook receives the event as its JSON body:
 *
 *   {"type":"pair.attached","id":"0b6f3c52-3d2e-4c4e-9b7e-3f1d2a9c8e11","time":"2025-05-01T12:00:03.123Z",
 *    "group":"etcd","instanceId":"i-0abc1234def567890","availabilityZone":"eu-west-1a","nodeId":"2",
 *    "volumeId":"vol-0123456789abcdef0","networkInterfaceId":"eni-0fedcba9876543210","privateIp":"10.0.1.12"}
 */
import { randomUUID } from 'node:crypto';

export const NOTIFY_EVENT_TYPES = ['pair.attached', 'pair.released', 'instance.waiting', 'lifecycle.abandoned'] as const;

export type NotifyEventType = (typeof NOTIFY_EVENT_TYPES)[number];

export interface NotifyEvent {
  type: NotifyEventType;
  /** A UUID, stable across retries. */
  id: string;
  /** ISO time the fact happened (not when a delivery was tried). */
  time: string;
  group: string;
  instanceId: string;
  availabilityZone?: string;
  nodeId?: string;
  volumeId?: string;
  networkInterfaceId?: string;
  /** The pair's ENI's private address: the node's stable IP. */
  privateIp?: string;
  /** Why, for instance.waiting and lifecycle.abandoned. */
  reason?: string;
}

/** A new event with a fresh id, stamped now. */
export function notifyEvent(type: NotifyEventType, fields: Omit<NotifyEvent, 'type' | 'id' | 'time'>, now: Date = new Date()): NotifyEvent {
  return { type, id: randomUUID(), time: now.toISOString(), ...fields };
}

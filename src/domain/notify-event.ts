/**
 * What pairkeeper tells the world (webhooks, commands) about its work. One event
 * per fact, and every retry of every delivery carries the same `id`, so a receiver
 * can drop duplicates. A pair is attached to an instance, and released by it, once
 * in the instance's life, so those two facts take their id from what they are
 * (a name-based UUID of the type, the instance and the pair): told again after a
 * crash, by this process or the next, they keep it. The other facts can recur, and
 * get a random id when they happen.
 *
 * A webhook receives the event as its JSON body:
 *
 *   {"type":"pair.attached","id":"0b6f3c52-3d2e-4c4e-9b7e-3f1d2a9c8e11","time":"2025-05-01T12:00:03.123Z",
 *    "group":"etcd","instanceId":"i-0abc1234def567890","availabilityZone":"eu-west-1a","nodeId":"2",
 *    "volumeId":"vol-0123456789abcdef0","networkInterfaceId":"eni-0fedcba9876543210","privateIp":"10.0.1.12"}
 */
import { randomUUID } from 'node:crypto';
import { nameBasedUuid } from './name-based-uuid.ts';

export const NOTIFY_EVENT_TYPES = ['pair.attached', 'pair.released', 'instance.waiting', 'lifecycle.abandoned'] as const;

export type NotifyEventType = (typeof NOTIFY_EVENT_TYPES)[number];

export interface NotifyEvent {
  type: NotifyEventType;
  /** A UUID, stable across retries (and, for pair.attached and pair.released, across crashes and restarts). */
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

/** The namespace of pairkeeper's name-based event ids: a random UUID, fixed for good (changing it changes every id). */
const EVENT_ID_NAMESPACE = '5f0c2a8e-4b7d-4e21-a3c9-6d1f0e8b7a42';

/** A new event stamped now; its id is the fact's own for pair.attached and pair.released (see above), else fresh. */
export function notifyEvent(type: NotifyEventType, fields: Omit<NotifyEvent, 'type' | 'id' | 'time'>, now: Date = new Date()): NotifyEvent {
  const once = (type === 'pair.attached' || type === 'pair.released') && fields.nodeId !== undefined;
  const id = once ? nameBasedUuid(EVENT_ID_NAMESPACE, `${type} ${fields.group} ${fields.nodeId!} ${fields.instanceId}`) : randomUUID();
  return { type, id, time: now.toISOString(), ...fields };
}

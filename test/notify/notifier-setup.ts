import { notifySchema, type NotifyConfig } from '../../src/config/notify-schema.ts';
import { createLogger } from '../../src/logger.ts';
import { notifyEvent, type NotifyEvent, type NotifyEventType } from '../../src/domain/notify-event.ts';
import { Notifier, type DeliveryRecord, type NotifierOptions } from '../../src/notify/notifier.ts';
import { LogSink } from '../helpers/log-sink.ts';

/** A notifier built the way the service builds one: config through the schema, logs into a sink. */
export function notifierFor(
  config: Record<string, unknown>,
  options: Partial<Omit<NotifierOptions, 'config' | 'logger'>> = {},
): { notifier: Notifier; logs: LogSink; seen: DeliveryRecord[]; config: NotifyConfig } {
  const logs = new LogSink();
  const seen: DeliveryRecord[] = [];
  const parsed = notifySchema.parse(config);
  const notifier = new Notifier({
    config: parsed,
    logger: createLogger('debug', logs),
    onDelivery: (r) => seen.push(r),
    ...options,
  });
  return { notifier, logs, seen, config: parsed };
}

/** Fast retries for tests: the waits are a few ms, the policy is the real one. */
export const FAST_RETRY = { attempts: 5, baseMs: 5, capMs: 20 };

export function attached(overrides: Partial<NotifyEvent> = {}, type: NotifyEventType = 'pair.attached'): NotifyEvent {
  return {
    ...notifyEvent(type, {
      group: 'etcd',
      instanceId: 'i-0abc1234def567890',
      availabilityZone: 'eu-west-1a',
      nodeId: '2',
      volumeId: 'vol-0123456789abcdef0',
      networkInterfaceId: 'eni-0fedcba9876543210',
      privateIp: '10.0.1.12',
    }),
    ...overrides,
  };
}

import type { NotifyEvent, NotifyEventType } from '../domain/notify-event.ts';

/** What one try at handing an event to a target came to. */
export interface AttemptResult {
  ok: boolean;
  /** false: the same request can never succeed (a 4xx), so it is not tried again. */
  retryable: boolean;
  /** Webhooks: the HTTP status, when there was an answer. */
  status?: number;
  /** Commands: the exit code, or the signal that ended the process. */
  exitCode?: number;
  signal?: string;
  error?: string;
  /** Commands: the last bytes of stdout and stderr, interleaved. */
  output?: string;
}

/** A place events are delivered to: a webhook or a command. */
export interface Target {
  readonly kind: 'webhook' | 'command';
  /** The event types it wants. */
  readonly events: ReadonlySet<NotifyEventType>;
  /** Where this event goes, safe to log and show: a URL without query or credentials, or argv[0]. */
  describe(event: NotifyEvent): string;
  /** Never throws; `signal` aborts it when the notifier closes. */
  attempt(event: NotifyEvent, signal: AbortSignal): Promise<AttemptResult>;
}

import type { Logger } from 'pino';
import type { AutoScalingEvent } from '../domain/events.ts';
import type { EventSink } from '../sns/ingress.ts';

/**
 * The sink until pairing lands: accepted events are logged and recorded (the
 * ingress records them in /v1/events); nothing is attached yet.
 */
export class RecordOnlySink implements EventSink {
  private readonly logger: Logger;
  constructor(logger: Logger) {
    this.logger = logger;
  }

  accept(event: AutoScalingEvent, source: { messageId: string }): void {
    this.logger.debug({ event, messageId: source.messageId }, 'event recorded; pairing is not enabled in this version');
  }
}

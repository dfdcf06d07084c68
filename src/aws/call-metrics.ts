import type { SQSClient } from '@aws-sdk/client-sqs';
import type { InitializeMiddleware } from '@smithy/types';

import { isThrottle } from './aws-errors.ts';
import type { AwsClients } from './clients.ts';

export type CallOutcome = 'ok' | 'throttled' | 'error';

/**
 * Counts every call each client sends, by service, action and outcome, in one place
 * for all adapters. The clients make one attempt per call (pairkeeper retries
 * itself), so each retry is counted as a call of its own, as AWS counts it.
 */
export function countAwsCalls(clients: AwsClients & { sqs?: SQSClient | undefined }, count: (service: string, action: string, outcome: CallOutcome) => void): void {
  const counting =
    <I extends object, O extends object>(service: string): InitializeMiddleware<I, O> =>
    (next, context) =>
    async (args) => {
      const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      try {
        const result = await next(args);
        count(service, action, 'ok');
        return result;
      } catch (err) {
        count(service, action, isThrottle(err) ? 'throttled' : 'error');
        throw err;
      }
    };
  clients.ec2.middlewareStack.add(counting('ec2'), { step: 'initialize', name: 'pairkeeperCallMetrics' });
  clients.ssm.middlewareStack.add(counting('ssm'), { step: 'initialize', name: 'pairkeeperCallMetrics' });
  clients.autoScaling.middlewareStack.add(counting('autoscaling'), { step: 'initialize', name: 'pairkeeperCallMetrics' });
  clients.sqs?.middlewareStack.add(counting('sqs'), { step: 'initialize', name: 'pairkeeperCallMetrics' });
}

/**
 * `pairkeeper setup`: its options as a SetupInput (the checks that need the config
 * are the setup module's own).
 */
import { DEFAULT_HOOK_HEARTBEAT_SECONDS, SetupInputError, type SetupInput } from '../setup/run.ts';

export interface SetupOptions {
  endpoint?: string | undefined;
  'hook-heartbeat'?: string | undefined;
  'role-arn'?: string | undefined;
  'topic-name'?: string | undefined;
}

export function setupInput(o: SetupOptions): SetupInput {
  const heartbeat = o['hook-heartbeat'] === undefined ? DEFAULT_HOOK_HEARTBEAT_SECONDS : Number(o['hook-heartbeat']);
  if (Number.isNaN(heartbeat)) throw new SetupInputError(`--hook-heartbeat ${o['hook-heartbeat']!}: expected seconds`);
  return { endpoint: o.endpoint, topicName: o['topic-name'], roleArn: o['role-arn'], hookHeartbeatSeconds: heartbeat };
}

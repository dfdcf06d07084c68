/**
 * An Auto Scaling group as resync sees it: its members with their lifecycle state,
 * and the lifecycle hooks that notify pairkeeper. Adapters translate the SDK's
 * shapes into these.
 */
export interface GroupMember {
  instanceId: string;
  availabilityZone: string;
  /** Auto Scaling's words: Pending, Pending:Wait, InService, Terminating:Wait, Standby, Warmed:… */
  lifecycleState: string;
}

export type LifecycleTransitionKind = 'launching' | 'terminating';

export interface LifecycleHookInfo {
  group: string;
  name: string;
  transition: LifecycleTransitionKind | undefined;
  heartbeatTimeoutSeconds: number;
  notificationTargetArn: string | undefined;
}

/** Which lifecycle action to complete or extend: by token when a message gave one, by instance otherwise. */
export interface LifecycleActionRef {
  group: string;
  hookName: string;
  instanceId: string;
  token: string | undefined;
}

export type LifecycleResult = 'CONTINUE' | 'ABANDON';

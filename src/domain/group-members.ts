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

/** Lifecycle states of members that are (or are about to be) running and should hold a pair. Warm-pool instances are stopped: not yet. */
const PAIRABLE_STATES = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService', 'EnteringStandby', 'Standby']);

/** Whether a member in this lifecycle state should hold a pair (one Terminating, Detaching or in the warm pool should not take one). */
export function isPairableState(lifecycleState: string): boolean {
  return PAIRABLE_STATES.has(lifecycleState);
}

/** What Auto Scaling says of one instance: its group and lifecycle state. */
export interface AutoScalingInstance {
  group: string;
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

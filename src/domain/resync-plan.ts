import type { GroupMember, LifecycleHookInfo } from './group-members.ts';
import type { Claim, Pair } from './pairs.ts';

/**
 * Level-triggered reconciliation of one group, as a pure function: from what Auto
 * Scaling, the claim store and EC2 say now, the actions that move actual toward
 * desired (every running member holds one whole pair, no claim outlives its
 * instance, no lifecycle action of ours is left open). Inconsistencies that only a
 * person should touch — a split pair, an instance with two pairs — are reported,
 * never "fixed": fixing them would mean detaching a volume (invariant 3).
 */
export interface ResyncInput {
  members: GroupMember[];
  /** The group's lifecycle hooks that notify pairkeeper. */
  hooks: LifecycleHookInfo[];
  claims: Claim[];
  pairs: Pair[];
  /**
   * EC2 states of the instances `instancesToCheck` named (undefined: EC2 does not know
   * it). An instance missing from the map is of unknown state, and nothing is done to it.
   */
  ec2States: ReadonlyMap<string, string | undefined>;
}

export type ResyncAction =
  /** Give the member a pair (or finish attaching the one it holds), then complete these launch hooks. */
  | { kind: 'pair'; instanceId: string; launchHooks: string[] }
  /** Record the claim of a pair found on a member with no claim (volume attached; ENI too, or a pair action follows). */
  | { kind: 'adopt'; instanceId: string; nodeId: string }
  /** Complete our terminating hooks with CONTINUE, then release once the instance is gone. */
  | { kind: 'continue-terminating'; instanceId: string; hooks: string[] }
  /** The claim's instance is gone: release its pair. */
  | { kind: 'release'; instanceId: string; nodeId: string };

export type ResyncProblem =
  | 'group-not-found'
  | 'split-pair'
  | 'two-pairs'
  | 'claim-elsewhere'
  | 'claim-without-pair'
  | 'claim-on-unusable-pair'
  | 'held-outside-group';

export interface ResyncReport {
  problem: ResyncProblem;
  nodeId: string | undefined;
  instanceId: string | undefined;
  detail: string;
}

export interface ResyncPlan {
  actions: ResyncAction[];
  reports: ResyncReport[];
}

/** Members that are (or are about to be) running and should hold a pair. Warm-pool instances are stopped: not yet. */
const PAIRABLE = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService', 'EnteringStandby', 'Standby']);
const GONE = new Set(['shutting-down', 'terminated']);

/** The instances whose EC2 state the plan needs: holders of claims and attachments that are not pairable members. */
export function instancesToCheck(members: GroupMember[], claims: Claim[], pairs: Pair[]): string[] {
  const pairable = new Set(members.filter((m) => PAIRABLE.has(m.lifecycleState)).map((m) => m.instanceId));
  const ids = new Set<string>(claims.map((c) => c.instanceId));
  for (const p of pairs) {
    for (const id of [p.volume?.attachment?.instanceId, p.eni?.attachment?.instanceId]) if (id) ids.add(id);
  }
  return [...ids].filter((id) => !pairable.has(id)).sort();
}

export function planResync(input: ResyncInput): ResyncPlan {
  const { members, hooks, claims, pairs, ec2States } = input;
  const actions: ResyncAction[] = [];
  const reports: ResyncReport[] = [];
  const report = (problem: ResyncProblem, detail: string, ids: { nodeId?: string; instanceId?: string }) =>
    reports.push({ problem, nodeId: ids.nodeId, instanceId: ids.instanceId, detail });

  const pairable = new Map(members.filter((m) => PAIRABLE.has(m.lifecycleState)).map((m) => [m.instanceId, m]));
  const memberIds = new Set(members.map((m) => m.instanceId));
  const isGone = (id: string) => !pairable.has(id) && ec2States.has(id) && (ec2States.get(id) === undefined || GONE.has(ec2States.get(id)!));
  const isAlive = (id: string) => pairable.has(id) || (ec2States.has(id) && !isGone(id));
  const pairOf = new Map(pairs.map((p) => [p.nodeId, p]));
  const claimOf = new Map(claims.map((c) => [c.nodeId, c]));

  for (const claim of claims) {
    const pair = pairOf.get(claim.nodeId);
    const ids = { nodeId: claim.nodeId, instanceId: claim.instanceId };
    if (isGone(claim.instanceId)) {
      actions.push({ kind: 'release', ...ids });
      continue;
    }
    if (!pair) {
      report('claim-without-pair', `${claim.instanceId} holds a claim on ${claim.nodeId}, which matches no volume or ENI`, ids);
      continue;
    }
    const elsewhere = holdersOf(pair).find((h) => h !== claim.instanceId && isAlive(h));
    if (elsewhere) report('claim-elsewhere', `claimed by ${claim.instanceId} but attached to ${elsewhere}`, ids);
  }

  const launchHooks = hooks.filter((h) => h.transition === 'launching').map((h) => h.name);
  const terminateHooks = hooks.filter((h) => h.transition === 'terminating').map((h) => h.name);
  for (const member of members) {
    const { instanceId } = member;
    if (member.lifecycleState === 'Terminating:Wait' && terminateHooks.length > 0) {
      actions.push({ kind: 'continue-terminating', instanceId, hooks: terminateHooks });
      continue;
    }
    if (!pairable.has(instanceId)) continue;
    const waitingOnUs = member.lifecycleState === 'Pending:Wait' ? launchHooks : [];
    const held = claims.filter((c) => c.instanceId === instanceId);
    if (held.length === 0) {
      // Parts of pairs already on the instance with no claim of its: a lost claim to adopt when it is
      // the volume of one unclaimed usable pair; otherwise (two pairs, a pair claimed by another, a
      // split pair) a person decides, and giving it yet another pair would only make it worse.
      const onIt = pairs.filter((p) => holdersOf(p).includes(instanceId));
      const only = onIt.length === 1 ? onIt[0]! : undefined;
      const eniHolder = only?.eni?.attachment?.instanceId;
      const adoptable =
        only?.condition === 'usable' &&
        !claimOf.has(only.nodeId) &&
        only.volume?.attachment?.instanceId === instanceId &&
        (eniHolder === undefined || eniHolder === instanceId || !isAlive(eniHolder));
      if (only && adoptable) {
        actions.push({ kind: 'adopt', instanceId, nodeId: only.nodeId });
        if (!isWholeOn(only, instanceId) || waitingOnUs.length > 0) actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
        continue;
      }
      if (onIt.length > 0) {
        // Only to complete the hook, with the group's no-pair result.
        if (waitingOnUs.length > 0) actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
        continue;
      }
    }
    const unusable = held.find((c) => pairOf.get(c.nodeId)?.condition !== 'usable');
    if (unusable) {
      const pair = pairOf.get(unusable.nodeId);
      // A claim on a missing pair is reported with the claims above.
      if (pair) {
        report('claim-on-unusable-pair', `${instanceId} holds ${pair.nodeId}, which is ${pair.condition}: ${pair.problem ?? ''}`.trim(), {
          nodeId: pair.nodeId,
          instanceId,
        });
      }
      // Only to complete the hook (with the group's no-pair result): attaching cannot succeed.
      if (waitingOnUs.length > 0) actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
      continue;
    }
    const complete = held.some((c) => isWholeOn(pairOf.get(c.nodeId)!, instanceId));
    if (!complete || waitingOnUs.length > 0) actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
  }

  for (const pair of pairs) {
    const volumeHolder = pair.volume?.attachment?.instanceId;
    const eniHolder = pair.eni?.attachment?.instanceId;
    if (eniHolder && eniHolder !== volumeHolder && isAlive(eniHolder)) {
      report('split-pair', `ENI on ${eniHolder}, volume ${volumeHolder ? `on ${volumeHolder}` : 'not attached'}`, { nodeId: pair.nodeId, instanceId: eniHolder });
    }
    if (volumeHolder && !claimOf.has(pair.nodeId) && !memberIds.has(volumeHolder) && isAlive(volumeHolder)) {
      report('held-outside-group', `attached to ${volumeHolder}, which is not a member of the group, with no claim`, {
        nodeId: pair.nodeId,
        instanceId: volumeHolder,
      });
    }
  }
  const volumesOn = new Map<string, string[]>();
  for (const pair of pairs) {
    const holder = pair.volume?.attachment?.instanceId;
    if (holder && isAlive(holder)) volumesOn.set(holder, [...(volumesOn.get(holder) ?? []), pair.nodeId]);
  }
  for (const [instanceId, nodeIds] of volumesOn) {
    if (nodeIds.length > 1) report('two-pairs', `${instanceId} has the volumes of ${nodeIds.join(', ')}`, { instanceId });
  }
  return { actions, reports };
}

function holdersOf(pair: Pair): string[] {
  return [pair.volume?.attachment?.instanceId, pair.eni?.attachment?.instanceId].filter((id): id is string => id !== undefined);
}

/** Volume and ENI both attached (not attaching) to the instance. */
function isWholeOn(pair: Pair, instanceId: string): boolean {
  const v = pair.volume?.attachment;
  const n = pair.eni?.attachment;
  return v?.instanceId === instanceId && v.state === 'attached' && n?.instanceId === instanceId && n.state === 'attached';
}

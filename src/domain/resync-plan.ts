/**
 * Level-triggered reconciliation of one group, as a pure function: from what Auto
 * Scaling, the claim store and EC2 say now, the actions that move actual toward
 * desired (every running member holds one whole pair, no claim outlives its
 * instance, no lifecycle action of ours is left open). Inconsistencies that only a
 * person should touch — a split pair, an instance with two pairs — are reported,
 * never "fixed": fixing them would mean detaching a volume (invariant 3). The plan
 * is four passes over one view of the group, as external-dns splits its plan:
 * claims, members, odd pairs, double pairs.
 */
import { holdersOf, isGoneState, isPairFinished, isWholeOn, untoldReleaseOf } from './attachment.ts';
import { isPairableState, type GroupMember, type LifecycleHookInfo } from './group-members.ts';
import { freePairs } from './inventory.ts';
import type { Claim, Pair } from './pairs.ts';

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
  /** Whether the group prepares its volumes: then a pair is finished only once prepared on its holder. */
  prepares?: boolean;
}

export type ResyncAction =
  /** Give the member a pair (or finish attaching the one it holds), then complete these launch hooks. */
  | { kind: 'pair'; instanceId: string; launchHooks: string[] }
  /** Record the claim of a pair found on a member with no claim (volume attached; ENI too, or a pair action follows). */
  | { kind: 'adopt'; instanceId: string; nodeId: string }
  /** Complete our terminating hooks with CONTINUE, then release once the instance is gone. */
  | { kind: 'continue-terminating'; instanceId: string; hooks: string[] }
  /** A launch into the warm pool, held by our launch hooks: continued without a pair (it gets one when it leaves the pool). */
  | { kind: 'continue-warm'; instanceId: string; hooks: string[] }
  /** The claim's instance is gone: release its pair. */
  | { kind: 'release'; instanceId: string; nodeId: string }
  /** A leftover claim (a replica race or a crash) of an instance that holds another whole pair: delete that claim, nothing else. */
  | { kind: 'drop-claim'; instanceId: string; nodeId: string }
  /** The holder tag names an instance that holds neither the pair nor its claim: its release was not told (a crash after the claim went); tell it. */
  | { kind: 'tell-released'; instanceId: string; nodeId: string };

export type ResyncProblem =
  | 'group-not-found'
  | 'split-pair'
  | 'two-pairs'
  | 'claim-elsewhere'
  | 'claim-without-pair'
  | 'claim-on-unusable-pair'
  | 'held-outside-group'
  | 'leftover-claim';

export interface ResyncReport {
  problem: ResyncProblem;
  nodeId: string | undefined;
  instanceId: string | undefined;
  detail: string;
}

/** A member that should hold a pair while its AZ has none to give: no work for it until one is released. */
export interface WaitingMember {
  instanceId: string;
  availabilityZone: string;
}

export interface ResyncPlan {
  actions: ResyncAction[];
  reports: ResyncReport[];
  /**
   * Members with nothing on them, no hook of ours waiting, and no pair to be had in
   * their AZ (none free, none released by this plan): a pair task could only answer
   * "no free pair", and under load such tasks would take the queue from work that
   * can move. A release wakes them.
   */
  waiting: WaitingMember[];
}

/** The instances whose EC2 state the plan needs: holders of claims and attachments that are not pairable members. */
export function instancesToCheck(members: GroupMember[], claims: Claim[], pairs: Pair[]): string[] {
  const pairable = new Set(members.filter((m) => isPairableState(m.lifecycleState)).map((m) => m.instanceId));
  const ids = new Set<string>(claims.map((c) => c.instanceId));
  for (const p of pairs) {
    for (const id of [p.volume?.attachment?.instanceId, p.eni?.attachment?.instanceId]) if (id) ids.add(id);
  }
  return [...ids].filter((id) => !pairable.has(id)).sort();
}

export function planResync(input: ResyncInput): ResyncPlan {
  const view = new GroupView(input);
  const plan: ResyncPlan = { actions: [], reports: [], waiting: [] };
  planClaims(view, plan);
  planUntoldReleases(view, plan);
  planMembers(view, plan);
  reportOddPairs(view, plan);
  reportDoublePairs(view, plan);
  return plan;
}

/** What the passes ask of the group: who is a pairable member, who is alive or gone, whose claim or pair is whose. */
class GroupView {
  readonly input: ResyncInput;
  readonly pairable: Map<string, GroupMember>;
  readonly memberIds: Set<string>;
  readonly pairOf: Map<string, Pair>;
  readonly claimOf: Map<string, Claim>;
  private readonly pairToGive = new Map<string, boolean>();

  constructor(input: ResyncInput) {
    this.input = input;
    this.pairable = new Map(input.members.filter((m) => isPairableState(m.lifecycleState)).map((m) => [m.instanceId, m]));
    this.memberIds = new Set(input.members.map((m) => m.instanceId));
    this.pairOf = new Map(input.pairs.map((p) => [p.nodeId, p]));
    this.claimOf = new Map(input.claims.map((c) => [c.nodeId, c]));
  }

  /** Not a pairable member, and EC2 says it is going or does not know it. */
  isGone(id: string): boolean {
    const { ec2States } = this.input;
    if (this.pairable.has(id) || !ec2States.has(id)) return false;
    const state = ec2States.get(id);
    return state === undefined || isGoneState(state);
  }

  isAlive(id: string): boolean {
    return this.pairable.has(id) || (this.input.ec2States.has(id) && !this.isGone(id));
  }

  /**
   * Whether a member in the AZ could get a pair now: one is free, or this plan releases
   * one there. Asked from the members pass, after the claims pass planned every release:
   * one answer per AZ.
   */
  hasPairFor(availabilityZone: string, plan: ResyncPlan): boolean {
    let has = this.pairToGive.get(availabilityZone);
    if (has === undefined) {
      has =
        freePairs(this.input.pairs, this.input.claims, availabilityZone, (id) => this.isGone(id)).length > 0 ||
        plan.actions.some(
          (a) => (a.kind === 'release' || a.kind === 'drop-claim') && this.pairOf.get(a.nodeId)?.condition === 'usable' && this.pairOf.get(a.nodeId)?.availabilityZone === availabilityZone,
        );
      this.pairToGive.set(availabilityZone, has);
    }
    return has;
  }
}

function report(plan: ResyncPlan, problem: ResyncProblem, detail: string, ids: { nodeId?: string; instanceId?: string }): void {
  plan.reports.push({ problem, nodeId: ids.nodeId, instanceId: ids.instanceId, detail });
}

/** Releases a crash kept untold (see untoldReleaseOf) are told again. */
function planUntoldReleases(view: GroupView, plan: ResyncPlan): void {
  for (const pair of view.input.pairs) {
    const untold = untoldReleaseOf(pair, view.claimOf.get(pair.nodeId)?.instanceId);
    if (untold) plan.actions.push({ kind: 'tell-released', instanceId: untold, nodeId: pair.nodeId });
  }
}

/** Claims of gone instances are released; claims on nothing, or on a pair attached elsewhere, are reported. */
function planClaims(view: GroupView, plan: ResyncPlan): void {
  for (const claim of view.input.claims) {
    const pair = view.pairOf.get(claim.nodeId);
    const ids = { nodeId: claim.nodeId, instanceId: claim.instanceId };
    if (view.isGone(claim.instanceId)) {
      plan.actions.push({ kind: 'release', ...ids });
      continue;
    }
    if (!pair) {
      report(plan, 'claim-without-pair', `${claim.instanceId} holds a claim on ${claim.nodeId}, which matches no volume or ENI`, ids);
      continue;
    }
    // The instance holds another pair whole and nothing of this one: a leftover that would strand the pair.
    const wholeElsewhere = view.input.pairs.find((p) => p.nodeId !== claim.nodeId && view.claimOf.get(p.nodeId)?.instanceId === claim.instanceId && isWholeOn(p, claim.instanceId));
    if (wholeElsewhere && !holdersOf(pair).includes(claim.instanceId)) {
      report(plan, 'leftover-claim', `${claim.instanceId} holds ${wholeElsewhere.nodeId}; its claim on ${claim.nodeId} is a leftover and is released`, ids);
      plan.actions.push({ kind: 'drop-claim', ...ids });
      continue;
    }
    const elsewhere = holdersOf(pair).find((h) => h !== claim.instanceId && view.isAlive(h));
    if (elsewhere) report(plan, 'claim-elsewhere', `claimed by ${claim.instanceId} but attached to ${elsewhere}`, ids);
    // Invariant 7: a message alone never moves a pair, so this is a person's to look at; never detached.
    const outsider = !view.memberIds.has(claim.instanceId) && view.isAlive(claim.instanceId) && holdersOf(pair).includes(claim.instanceId);
    if (outsider) report(plan, 'held-outside-group', `claimed by and attached to ${claim.instanceId}, which is not a member of the group`, ids);
  }
}

/** Every pairable member gets (or finishes) its pair and its launch hooks completed; terminating members are let go. */
function planMembers(view: GroupView, plan: ResyncPlan): void {
  const { hooks } = view.input;
  const launchHooks = hooks.filter((h) => h.transition === 'launching').map((h) => h.name);
  const terminateHooks = hooks.filter((h) => h.transition === 'terminating').map((h) => h.name);
  for (const member of view.input.members) {
    const { instanceId } = member;
    // Warmed:Terminating:Wait is a pool instance being terminated: no pair to keep, the hook is let go all the same.
    if ((member.lifecycleState === 'Terminating:Wait' || member.lifecycleState === 'Warmed:Terminating:Wait') && terminateHooks.length > 0) {
      plan.actions.push({ kind: 'continue-terminating', instanceId, hooks: terminateHooks });
      continue;
    }
    // Pairs are scarce: an instance entering the warm pool is let go without one, and never waits for one.
    if (member.lifecycleState === 'Warmed:Pending:Wait' && launchHooks.length > 0) {
      plan.actions.push({ kind: 'continue-warm', instanceId, hooks: launchHooks });
      continue;
    }
    if (!view.pairable.has(instanceId)) continue;
    const waitingOnUs = member.lifecycleState === 'Pending:Wait' ? launchHooks : [];
    const pairIt = () => plan.actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
    const held = view.input.claims.filter((c) => c.instanceId === instanceId);
    if (held.length === 0) {
      if (planUnclaimedMember(view, plan, instanceId, waitingOnUs)) continue;
      if (waitingOnUs.length === 0 && !view.hasPairFor(member.availabilityZone, plan)) {
        plan.waiting.push({ instanceId, availabilityZone: member.availabilityZone });
        continue;
      }
    }
    const unusable = held.find((c) => view.pairOf.get(c.nodeId)?.condition !== 'usable');
    if (unusable) {
      const pair = view.pairOf.get(unusable.nodeId);
      // A claim on a missing pair is reported with the claims.
      if (pair) {
        const detail = `${instanceId} holds ${pair.nodeId}, which is ${pair.condition}: ${pair.problem ?? ''}`.trim();
        report(plan, 'claim-on-unusable-pair', detail, { nodeId: pair.nodeId, instanceId });
      }
      // Only to complete the hook (with the group's no-pair result): attaching cannot succeed.
      if (waitingOnUs.length > 0) pairIt();
      continue;
    }
    // A crash can stop pairing after any step (not attached, not prepared, not announced): all of it is work.
    const finished = held.some((c) => isPairFinished(view.pairOf.get(c.nodeId)!, c, view.input.prepares ?? false));
    if (!finished || waitingOnUs.length > 0) pairIt();
  }
}

/**
 * A member with no claim but parts of pairs on it: a lost claim to adopt when it is
 * the volume of one unclaimed usable pair; otherwise (two pairs, a pair claimed by
 * another, a split pair) a person decides, and giving it yet another pair would only
 * make it worse. True when the member is dealt with here.
 */
function planUnclaimedMember(view: GroupView, plan: ResyncPlan, instanceId: string, waitingOnUs: string[]): boolean {
  const onIt = view.input.pairs.filter((p) => holdersOf(p).includes(instanceId));
  if (onIt.length === 0) return false;
  const only = onIt.length === 1 ? onIt[0]! : undefined;
  const eniHolder = only?.eni?.attachment?.instanceId;
  const adoptable =
    only?.condition === 'usable' &&
    !view.claimOf.has(only.nodeId) &&
    only.volume?.attachment?.instanceId === instanceId &&
    (eniHolder === undefined || eniHolder === instanceId || !view.isAlive(eniHolder));
  if (only && adoptable) {
    plan.actions.push({ kind: 'adopt', instanceId, nodeId: only.nodeId });
    // The adopted claim, as adopt records it.
    const adopted = { group: only.group, nodeId: only.nodeId, instanceId, state: 'claimed', since: '', updatedAt: '' } as const;
    if (!isPairFinished(only, adopted, view.input.prepares ?? false) || waitingOnUs.length > 0) plan.actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
    return true;
  }
  // Only to complete the hook, with the group's no-pair result.
  if (waitingOnUs.length > 0) plan.actions.push({ kind: 'pair', instanceId, launchHooks: waitingOnUs });
  return true;
}

/** Split pairs, and pairs held by a live instance outside the group with no claim. */
function reportOddPairs(view: GroupView, plan: ResyncPlan): void {
  for (const pair of view.input.pairs) {
    const volumeHolder = pair.volume?.attachment?.instanceId;
    const eniHolder = pair.eni?.attachment?.instanceId;
    if (eniHolder && eniHolder !== volumeHolder && view.isAlive(eniHolder)) {
      report(plan, 'split-pair', `ENI on ${eniHolder}, volume ${volumeHolder ? `on ${volumeHolder}` : 'not attached'}`, { nodeId: pair.nodeId, instanceId: eniHolder });
    }
    if (volumeHolder && !view.claimOf.has(pair.nodeId) && !view.memberIds.has(volumeHolder) && view.isAlive(volumeHolder)) {
      report(plan, 'held-outside-group', `attached to ${volumeHolder}, which is not a member of the group, with no claim`, {
        nodeId: pair.nodeId,
        instanceId: volumeHolder,
      });
    }
  }
}

/** Live instances holding the volumes of more than one pair. */
function reportDoublePairs(view: GroupView, plan: ResyncPlan): void {
  const volumesOn = new Map<string, string[]>();
  for (const pair of view.input.pairs) {
    const holder = pair.volume?.attachment?.instanceId;
    if (holder && view.isAlive(holder)) volumesOn.set(holder, [...(volumesOn.get(holder) ?? []), pair.nodeId]);
  }
  for (const [instanceId, nodeIds] of volumesOn) {
    if (nodeIds.length > 1) report(plan, 'two-pairs', `${instanceId} has the volumes of ${nodeIds.join(', ')}`, { instanceId });
  }
}

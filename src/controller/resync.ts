/**
 * Level-triggered reconciliation, at start-up and every `intervalMs`: for each
 * group, read its members and lifecycle states, the claims and the pairs' actual
 * attachments, plan (a pure function) and hand the actions to the controller's
 * per-instance queue, the one the SNS path uses, so the two never race. One run at
 * a time; a failed run is tried again sooner (1 s, 2 s, 4 s … up to the interval).
 */
import type { Logger } from 'pino';
import type { AutoScalingGateway } from '../aws/autoscaling-gateway.ts';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import { backoffDelay } from '../backoff.ts';
import type { ClaimStore } from '../claims/claim-store.ts';
import type { GroupConfig } from '../config/schema.ts';
import { countBy } from '../count-by.ts';
import { PairkeeperError } from '../errors.ts';
import { pairStatus, type PairStatus } from '../domain/inventory.ts';
import type { GroupMember, LifecycleHookInfo } from '../domain/group-members.ts';
import type { Claim, Pair } from '../domain/pairs.ts';
import { instancesToCheck, planResync, type ResyncAction, type ResyncReport } from '../domain/resync-plan.ts';
import { taskOf, type Controller } from './controller.ts';
import type { ClaimView } from './claim-view.ts';
import type { InventoryCache } from './inventory-cache.ts';
import type { Readiness } from './status.ts';

/** One resync loop per replica: failed runs back off without jitter (random() = 1 takes the full step). */
const FAILED_RUN_BACKOFF = { baseMs: 1000, random: () => 1 };

export interface ResyncRun {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** undefined when the run succeeded, in part at least: AWS answered, and not every group failed. */
  error: string | undefined;
  /** Groups whose own resync failed this run (the others went on). */
  failedGroups: { group: string; error: string }[];
  /** Actions handed to the queue, by kind. */
  actions: Record<ResyncAction['kind'], number>;
  /** Per group: what only a person should fix. */
  reports: (ResyncReport & { group: string })[];
  /** What each group looked like to this run. */
  groups: GroupSummary[];
}

export interface GroupSummary {
  group: string;
  /** Members by Auto Scaling lifecycle state. */
  members: Record<string, number>;
  /** Pairs by AZ, then by status. */
  pairs: Record<string, Partial<Record<PairStatus, number>>>;
}

export interface ResyncDeps {
  groups: GroupConfig[];
  autoScaling: AutoScalingGateway;
  ec2: Ec2Gateway;
  claims: ClaimStore;
  /** Given every list resync makes: the launch path chooses from it instead of listing. */
  claimView: ClaimView;
  inventory: InventoryCache;
  controller: Controller;
  /** Hooks whose notification target is one of these (the SNS topics, the intake queue) are pairkeeper's. */
  hookTargetArns: string[];
  intervalMs: number;
  logger: Logger;
  onRun?: (run: ResyncRun) => void;
}

export class Resync {
  private readonly deps: ResyncDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ResyncRun> | undefined;
  private failures = 0;
  private closed = false;
  private last: ResyncRun | undefined;
  private lastGood: ResyncRun | undefined;

  constructor(deps: ResyncDeps) {
    this.deps = deps;
  }

  /** Runs now, then every interval. */
  start(): void {
    this.schedule(0);
  }

  /** One run (or the one already in progress). */
  run(): Promise<ResyncRun> {
    this.running ??= this.runOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Ready once a run has completed, and as long as the latest one did. */
  readiness(): Readiness {
    if (!this.last) return { ready: false, reason: 'the first resync has not completed yet' };
    if (this.last.error) return { ready: false, reason: `the last resync failed: ${this.last.error}` };
    const failing = this.last.failedGroups.map((f) => `${f.group}: ${f.error}`);
    // Ready while some groups work: the reason still names the ones that fail.
    return { ready: true, reason: failing.length > 0 ? `resync fails for ${failing.join('; ')}` : undefined };
  }

  /** The latest run, and the latest that succeeded. */
  runs(): { last: ResyncRun | undefined; lastGood: ResyncRun | undefined } {
    return { last: this.last, lastGood: this.lastGood };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.run().then((run) => {
        this.failures = run.error ? this.failures + 1 : 0;
        this.schedule(run.error ? backoffDelay(this.failures - 1, { ...FAILED_RUN_BACKOFF, capMs: this.deps.intervalMs }) : this.deps.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<ResyncRun> {
    const started = new Date();
    const t0 = performance.now();
    const actions: ResyncRun['actions'] = { pair: 0, adopt: 0, 'continue-terminating': 0, 'continue-warm': 0, release: 0, 'drop-claim': 0, 'tell-released': 0 };
    const reports: ResyncRun['reports'] = [];
    const groups: GroupSummary[] = [];
    let error: string | undefined;
    const failedGroups: ResyncRun['failedGroups'] = [];
    try {
      const members = await this.deps.autoScaling.members(this.deps.groups.map((g) => g.name));
      for (const group of this.deps.groups) {
        // Each group is its own unit: a corrupt claim or a denied call in one never stops the others.
        try {
          const done = await this.resyncGroup(group, members.get(group.name));
          for (const kind of done.applied) actions[kind] += 1;
          reports.push(...done.reports.map((r) => ({ ...r, group: group.name })));
          if (done.summary) groups.push(done.summary);
        } catch (err) {
          failedGroups.push({ group: group.name, error: err instanceof Error ? err.message : String(err) });
          this.deps.logger.error({ err, group: group.name }, 'resync of a group failed; the other groups go on');
        }
      }
      if (failedGroups.length > 0 && failedGroups.length === this.deps.groups.length) error = failedGroups.map((f) => `${f.group}: ${f.error}`).join('; ');
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.deps.logger.error({ err }, 'resync failed');
    }
    const run: ResyncRun = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - t0),
      error,
      actions,
      reports,
      groups,
      failedGroups,
    };
    for (const r of reports) this.deps.logger.warn({ group: r.group, problem: r.problem, nodeId: r.nodeId, instanceId: r.instanceId }, `resync: ${r.detail}`);
    if (!error) this.deps.logger.info({ durationMs: run.durationMs, actions, reports: reports.length }, 'resync done');
    this.last = run;
    if (!error) this.lastGood = run;
    this.deps.onRun?.(run);
    return run;
  }

  /** Reads one group, plans, and hands the plan's actions to the controller. */
  private async resyncGroup(group: GroupConfig, groupMembers: GroupMember[] | undefined) {
    if (!groupMembers) {
      const notFound: ResyncReport = { problem: 'group-not-found', nodeId: undefined, instanceId: undefined, detail: `Auto Scaling has no group ${group.name}` };
      return { applied: [], reports: [notFound], summary: undefined };
    }
    const pool = await this.deps.autoScaling.warmPool(group.name);
    if (pool?.reuseOnScaleIn) throw new WarmPoolReuseError(group.name);
    const ours = (h: LifecycleHookInfo) => (h.notificationTargetArn !== undefined && this.deps.hookTargetArns.includes(h.notificationTargetArn)) || group.lifecycle.hookNames.includes(h.name);
    const hooks = (await this.deps.autoScaling.hooks(group.name)).filter(ours);
    const listStarted = performance.now();
    const claims = await this.deps.claims.list(group.name);
    this.deps.claimView.replace(group.name, claims, listStarted);
    const pairs = await this.deps.inventory.get(group, { maxAgeMs: 0 });
    const ec2States = new Map(
      await Promise.all(instancesToCheck(groupMembers, claims, pairs).map(async (id) => [id, (await this.deps.ec2.instances.read(id))?.state] as const)),
    );
    const plan = planResync({ members: groupMembers, hooks, claims, pairs, ec2States, prepares: group.prepare !== undefined });
    const applied = plan.actions.filter((action) => this.apply(group.name, action)).map((a) => a.kind);
    for (const member of plan.waiting) this.deps.controller.waitForPair(group.name, member.instanceId, member.availabilityZone);
    return { applied, reports: plan.reports, summary: summarize(group.name, groupMembers.map((m) => m.lifecycleState), pairs, claims) };
  }

  /** Hands one action to the controller, which takes its hooks and queues it unless work for the instance is queued already. */
  private apply(group: string, action: ResyncAction): boolean {
    const hooks =
      action.kind === 'pair'
        ? { launching: action.launchHooks }
        : action.kind === 'continue-warm'
          ? { launching: action.hooks }
          : action.kind === 'continue-terminating'
            ? { terminating: action.hooks }
            : {};
    return this.deps.controller.submit(group, action.instanceId, taskOf(action), hooks);
  }
}

function summarize(group: string, memberStates: string[], pairs: Pair[], claims: Claim[]): GroupSummary {
  const claimOf = new Map(claims.map((c) => [c.nodeId, c]));
  const byAz: GroupSummary['pairs'] = {};
  for (const pair of pairs) {
    const { status } = pairStatus(pair, claimOf.get(pair.nodeId));
    const az = (byAz[pair.availabilityZone ?? 'unknown'] ??= {});
    az[status] = (az[status] ?? 0) + 1;
  }
  return { group, members: countBy(memberStates), pairs: byAz };
}

/**
 * ReuseOnScaleIn sends an instance back to the warm pool, stopped, with its volume
 * still attached. Giving the pair back would mean detaching that volume, and
 * pairkeeper detaches no volume at all (DESIGN invariant 3: the only detach is an
 * ENI of an instance EC2 says is going); keeping it would hold a scarce pair on a
 * stopped instance. So the group is refused, at start-up and every resync, until
 * the pool stops reusing instances.
 */
export class WarmPoolReuseError extends PairkeeperError {
  constructor(group: string) {
    super(
      'PK_WARM_POOL_REUSE',
      `group ${group}: its warm pool has ReuseOnScaleIn, which pairkeeper refuses: an instance going back to the pool keeps its volume attached while stopped, ` +
        `and pairkeeper never detaches volumes. Turn it off: aws autoscaling put-warm-pool --auto-scaling-group-name ${group} --instance-reuse-policy ReuseOnScaleIn=false`,
    );
  }
}

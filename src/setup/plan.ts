/**
 * What `pairs create` and `setup` print and do, in two halves: a plan read from AWS
 * (what is there, what would be created or changed and by which call, what is wrong
 * that they cannot fix), and applying it. Without --apply only the plan is printed;
 * with it, the steps run in order and each says what it did. Steps only create or
 * put, never delete, and each re-run plans from AWS again, so a run stopped half-way
 * is finished by the next one.
 */
export interface PlanStep {
  /** What changes, for a person: "create volume for etcd-1 in us-east-1a". */
  what: string;
  /** The AWS call that does it: "ec2:CreateVolume". */
  call: string;
  /** Does it; answers what it did ("created vol-0abc for etcd-1"). */
  run: () => Promise<string>;
}

export function step(what: string, call: string, run: () => Promise<string>): PlanStep {
  return { what, call, run };
}

export interface Plan {
  title: string;
  /** What is there already, one line each. */
  found: string[];
  steps: PlanStep[];
  /** What the command cannot fix but the operator should know (it does not stop the run). */
  warnings: string[];
}

export function planText(plan: Plan): string {
  const lines = [plan.title, ...plan.found.map((f) => `  ok      ${f}`), ...plan.steps.map((s) => `  change  ${s.what}  (${s.call})`)];
  lines.push(...plan.warnings.map((w) => `  warning ${w}`));
  if (plan.steps.length === 0) lines.push('Nothing to change.');
  else lines.push(`Calls: ${callCounts(plan.steps)}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the steps in order, stopping at the first failure (the next run plans from what was done). */
export async function applyPlan(plan: Plan, report: (line: string) => void): Promise<void> {
  for (const step of plan.steps) report(`  done    ${await step.run()}`);
}

function callCounts(steps: PlanStep[]): string {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.call, (counts.get(s.call) ?? 0) + 1);
  return [...counts].map(([call, n]) => `${call} ×${n}`).join(', ');
}

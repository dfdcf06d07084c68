/**
 * The controller's reports turned into Prometheus metrics: attach durations,
 * pairing outcomes, lifecycle completions, and per resync run the pairs by group,
 * AZ and status and the problems a person should look at.
 */
import type { ControllerReports } from './controller/facade.ts';
import { countBy } from './count-by.ts';
import type { Metrics } from './metrics.ts';

export function metricReports(metrics: Metrics): ControllerReports {
  return {
    onAttached: (group, seconds) => metrics.attachDuration.observe({ group }, seconds),
    onOutcome: (group, outcome) => metrics.pairings.inc({ group, outcome }),
    onLifecycleComplete: ({ group, result, answer }) => metrics.lifecycleActions.inc({ group, result, answer }),
    onResync: (run) => {
      metrics.resyncs.inc({ outcome: run.error ? 'failed' : 'ok' });
      if (run.error) return;
      metrics.lastResync.set(Date.parse(run.finishedAt) / 1000);
      metrics.pairs.reset();
      for (const g of run.groups) {
        for (const [az, statuses] of Object.entries(g.pairs)) {
          for (const [status, count] of Object.entries(statuses)) metrics.pairs.set({ group: g.group, availability_zone: az, status }, count);
        }
      }
      metrics.resyncProblems.reset();
      for (const group of new Set(run.reports.map((r) => r.group))) {
        const problems = countBy(run.reports.filter((r) => r.group === group).map((r) => r.problem));
        for (const [problem, count] of Object.entries(problems)) metrics.resyncProblems.set({ group, problem }, count);
      }
    },
  };
}

/**
 * The resident set of another process, read from /proc/<pid>/status (VmRSS), as
 * `ps` and the kernel's OOM accounting see it — Linux only. Read from outside, so
 * the measuring adds nothing to the process measured.
 */
import { readFileSync } from 'node:fs';

/** The process's resident set now, in MiB. */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`/proc/${pid}/status has no VmRSS line (has the process exited?)`);
  return Number(kb[1]) / 1024;
}

/** Samples the process's resident set every `everyMs` until stopped; stop() gives the largest sample in MiB. */
export function sampleResidentPeak(pid: number, everyMs: number): { stop(): number } {
  let peak = residentMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, residentMb(pid))), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, residentMb(pid));
    },
  };
}

/**
 * The resident set of another process, read from /proc/<pid>/status (VmRSS), as
 * `ps` and the kernel's OOM accounting see it — Linux only. Read from outside, so
 * the measuring adds nothing to the process measured.
 */
import { readFileSync } from 'node:fs';

/**
 * The process's resident set now, in MiB: all of it (VmRSS), or its anonymous part
 * (RssAnon: heaps, stacks, what only this process holds) or its file-backed part
 * (RssFile: pages of the node binary and libraries, which the kernel can drop and
 * read again).
 */
export function residentMb(pid: number, part: 'VmRSS' | 'RssAnon' | 'RssFile' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${part}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!kb) throw new Error(`/proc/${pid}/status has no ${part} line (has the process exited?)`);
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

import { FakeAwsError } from './errors.ts';
import { seededRandom } from './random.ts';

/** What to do to calls of one action: fail some, fail the next few, slow them down. */
export interface ActionFault {
  /** Probability (0..1) that a call fails with `code`. */
  errorRate?: number;
  /** The next N calls fail with `code`, then the action behaves again. */
  failNext?: number;
  code?: string;
  status?: number;
  message?: string;
  /** Added before the call is answered. */
  latencyMs?: number;
}

/**
 * Call counters and injected faults for every action of every fake service.
 * Keys are `Service:Action`, e.g. `EC2:AttachVolume`, `SSM:PutParameter`.
 */
export class Faults {
  private readonly counts = new Map<string, number>();
  private readonly faults = new Map<string, ActionFault>();
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  set(service: string, action: string, fault: ActionFault): void {
    this.faults.set(`${service}:${action}`, { ...fault });
  }

  clear(): void {
    this.faults.clear();
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** Counts the call, then applies latency and any injected error. */
  async before(service: string, action: string): Promise<void> {
    const key = `${service}:${action}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const fault = this.faults.get(key);
    if (!fault) return;
    if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    let fail = false;
    if (fault.failNext && fault.failNext > 0) {
      fault.failNext -= 1;
      fail = true;
    } else if (fault.errorRate && this.random() < fault.errorRate) {
      fail = true;
    }
    if (fail) {
      throw new FakeAwsError(
        fault.code ?? 'InternalError',
        fault.message ?? `injected fault on ${key}`,
        fault.status ?? 500,
      );
    }
  }

  /** Calls per `Service:Action` since the last reset. */
  calls(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * The calls that may change something, per `Service:Action`: every action but the
   * read-only ones, which AWS names Describe*, List* and Get* throughout. This is how a
   * test asserts "a second run changes nothing".
   */
  mutatingCalls(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.calls()).filter(([key]) => !/:(Describe|List|Get)[A-Z]/.test(key)));
  }

  count(service: string, action: string): number {
    return this.counts.get(`${service}:${action}`) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }
}

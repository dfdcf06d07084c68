/**
 * This replica's part of Parameter Store's buckets (about 3 writes a second for the
 * whole account), in proportion to the work each replica owns. Every replica gets
 * every SNS message and computes the same owners (`ownerOf`), so the parts they
 * compute add up to the whole without their talking: a burst of launches that falls
 * 56 / 44 on two replicas is written at 56% and 44% of the bucket, and both finish
 * together, where equal halves leave the larger one writing its last claims alone,
 * at half the account's rate.
 *
 * Each instance counts once, for the last message about it within `windowMs`; each
 * replica counts one more, so an idle replica keeps a little and no part is 0. With
 * no message in the window the parts are equal. Messages that reach one replica only
 * (a queue's) are not counted: the others cannot see them.
 */
export class WriteShares {
  /** Owner of each instance seen, oldest message first. */
  private readonly owners = new Map<string, { owner: number; at: number }>();
  private readonly index: number;
  private readonly count: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: { index: number; count: number; windowMs: number; now?: () => number }) {
    this.index = options.index;
    this.count = options.count;
    this.windowMs = options.windowMs;
    this.now = options.now ?? (() => performance.now());
  }

  /** A message every replica gets, about an instance that `owner` owns (unless this replica took it over). */
  saw(instanceId: string, owner: number): void {
    const tookOver = this.owners.get(instanceId)?.owner === this.index;
    this.owners.delete(instanceId);
    this.owners.set(instanceId, { owner: tookOver ? this.index : owner, at: this.now() });
  }

  /** This replica does the work of an instance its owner left undone: it counts as this replica's from now on. */
  tookOver(instanceId: string): void {
    this.saw(instanceId, this.index);
  }

  /** This replica's part now, between 0 and 1. */
  mine(): number {
    const since = this.now() - this.windowMs;
    for (const [id, seen] of this.owners) {
      if (seen.at >= since) break;
      this.owners.delete(id);
    }
    let own = 0;
    for (const seen of this.owners.values()) if (seen.owner === this.index) own += 1;
    return (own + 1) / (this.owners.size + this.count);
  }
}

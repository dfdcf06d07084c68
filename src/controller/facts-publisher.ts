/**
 * The cluster facts of every configured group, read from the pairs and claims, for
 * `GET /v1/facts` and, when `notify.factsFile` is set, the facts file. Refreshes of
 * the file run one at a time; those asked for meanwhile merge into one more, so a
 * burst of attaches costs two reads, not one per attach.
 */
import type { Logger } from 'pino';
import type { ClaimStore } from '../claims/claim-store.ts';
import type { GroupConfig } from '../config/schema.ts';
import { buildFacts, type ClusterFacts, type FactsFile } from '../notify/facts.ts';
import type { InventoryCache } from './inventory-cache.ts';

/** Where the facts come from: the groups, their pairs and their claims. */
export interface FactsSource {
  groups: GroupConfig[];
  inventory: InventoryCache;
  claims: ClaimStore;
}

export class FactsPublisher {
  private readonly service: FactsSource;
  private readonly file: FactsFile | undefined;
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  /** A refresh asked for while one runs: done once after it. */
  private pending: { fresh: boolean } | undefined;

  constructor(deps: { service: FactsSource; file: FactsFile | undefined; logger: Logger }) {
    this.service = deps.service;
    this.file = deps.file;
    this.logger = deps.logger;
  }

  /** The facts now; `fresh` reads the pairs anew instead of sharing a read of the last moments. */
  async current(options: { fresh?: boolean } = {}): Promise<ClusterFacts> {
    const groups = await Promise.all(
      this.service.groups.map(async (g) => ({
        name: g.name,
        volumeDevice: g.volumeDevice,
        pairs: await this.service.inventory.get(g, options.fresh ? { maxAgeMs: 0 } : {}),
        claims: await this.service.claims.list(g.name),
      })),
    );
    return buildFacts(groups);
  }

  /**
   * Rewrites the facts file if the facts changed (no-op without a file). `fresh`:
   * read the pairs anew (after an attach or release); false shares a read of the
   * last moments (right after resync read them). Never throws: a failure is logged,
   * the next refresh tries again.
   */
  refresh(options: { fresh: boolean }): void {
    if (!this.file) return;
    if (this.running) {
      this.pending = { fresh: options.fresh || (this.pending?.fresh ?? false) };
      return;
    }
    this.running = this.writeOnce(options.fresh).finally(() => {
      this.running = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next) this.refresh(next);
    });
  }

  /** Resolves when no refresh is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async writeOnce(fresh: boolean): Promise<void> {
    try {
      if (await this.file!.write(await this.current({ fresh }))) this.logger.info('cluster facts file updated');
    } catch (err) {
      this.logger.error({ err }, 'cannot update the cluster facts file; the next change or resync tries again');
    }
  }
}

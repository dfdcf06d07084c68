/**
 * Claims in one JSON file, for a single replica. Every change is written to a
 * temporary file, flushed, and renamed over the old one, so a crash leaves either
 * the old file or the new one, never half of one. Changes are serialised in
 * process; two pairkeepers must not share a file (use the ssm store).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/atomic-write.ts';
import type { Claim } from '../domain/pairs.ts';
import { PairkeeperError } from '../errors.ts';
import { compareClaims, isSameClaim, type ClaimIdentity, type ClaimStore } from './claim-store.ts';

interface FileShape {
  version: 1;
  claims: Record<string, Claim>;
}

export class FileClaimStore implements ClaimStore {
  private readonly path: string;
  private claims: Map<string, Claim> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  create(claim: Claim): Promise<boolean> {
    return this.change((claims) => {
      const key = keyOf(claim.group, claim.nodeId);
      if (claims.has(key)) return false;
      claims.set(key, { ...claim });
      return true;
    });
  }

  async get(group: string, nodeId: string): Promise<Claim | undefined> {
    const claim = (await this.load()).get(keyOf(group, nodeId));
    return claim && { ...claim };
  }

  async list(group?: string): Promise<Claim[]> {
    return [...(await this.load()).values()]
      .filter((c) => group === undefined || c.group === group)
      .sort(compareClaims)
      .map((c) => ({ ...c }));
  }

  release(claim: ClaimIdentity): Promise<boolean> {
    return this.change((claims) => {
      const key = keyOf(claim.group, claim.nodeId);
      if (!isSameClaim(claims.get(key), claim)) return false;
      claims.delete(key);
      return true;
    });
  }

  /** Applies `mutate` to a copy, writes it if it changed anything, then adopts it. */
  private change(mutate: (claims: Map<string, Claim>) => boolean): Promise<boolean> {
    const run = this.queue.then(async () => {
      const next = new Map(await this.load());
      if (!mutate(next)) return false;
      await this.write(next);
      this.claims = next;
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<Map<string, Claim>> {
    if (this.claims) return this.claims;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(`cannot read claims file ${this.path}`, err);
      this.claims = new Map();
      return this.claims;
    }
    let parsed: FileShape;
    try {
      parsed = JSON.parse(text) as FileShape;
      if (parsed.version !== 1 || typeof parsed.claims !== 'object') throw new Error('not a version 1 claims file');
    } catch (err) {
      // Never start from an empty set when the file says otherwise: that would hand out held pairs.
      throw storeError(`claims file ${this.path} is unreadable; fix or move it aside`, err);
    }
    this.claims = new Map(Object.entries(parsed.claims));
    return this.claims;
  }

  private async write(claims: Map<string, Claim>): Promise<void> {
    const body: FileShape = { version: 1, claims: Object.fromEntries([...claims.entries()].sort(([, a], [, b]) => compareClaims(a, b))) };
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(body, null, 2)}\n`, 0o600);
    } catch (err) {
      throw storeError(`cannot write claims file ${this.path}`, err);
    }
  }
}

/** Unambiguous for any names: group "a/b" + node "c" and group "a" + node "b/c" stay apart. */
function keyOf(group: string, nodeId: string): string {
  return JSON.stringify([group, nodeId]);
}

function storeError(message: string, cause: unknown): PairkeeperError {
  return new PairkeeperError('PK_CLAIMS_STORE', message, { cause });
}

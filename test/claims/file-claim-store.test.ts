import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FileClaimStore } from '../../src/claims/file-claim-store.ts';
import { PairkeeperError } from '../../src/errors.ts';
import { claim, claimStoreContract } from './claim-store-contract.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pairkeeper-claims-'));
}

claimStoreContract('FileClaimStore', async () => {
  const dir = await tempDir();
  return { store: new FileClaimStore(join(dir, 'claims.json')), close: () => rm(dir, { recursive: true, force: true }) };
});

describe('FileClaimStore on disk', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir, 'var', 'claims.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('survives a restart: a new instance reads what the old one wrote', async () => {
    const before = new FileClaimStore(path);
    await before.create(claim('web', 'n1', 'i-1'));
    await before.create(claim('web', 'n2', 'i-2'));
    await before.release(claim('web', 'n2', 'i-2'));

    const after = new FileClaimStore(path);
    assert.deepEqual(await after.list(), [claim('web', 'n1', 'i-1')]);
    assert.equal(await after.create(claim('web', 'n1', 'i-9')), false);
  });

  it('fails loudly on a corrupt file and leaves it as it was', async () => {
    const store = new FileClaimStore(path);
    await store.create(claim('web', 'n1', 'i-1'));
    await writeFile(path, '{"version":1,"claims":{"web/n1":');

    const corrupt = new FileClaimStore(path);
    for (const call of [() => corrupt.list(), () => corrupt.get('web', 'n1'), () => corrupt.create(claim('web', 'n2', 'i-2'))]) {
      await assert.rejects(call(), (err: unknown) => err instanceof PairkeeperError && /unreadable/.test(err.message) && err.message.includes(path));
    }
    assert.equal(await readFile(path, 'utf8'), '{"version":1,"claims":{"web/n1":');
  });

  it('refuses a file of another shape rather than starting empty', async () => {
    await new FileClaimStore(path).create(claim('web', 'n1', 'i-1'));
    await writeFile(path, '{"version":2,"claims":{}}');
    await assert.rejects(new FileClaimStore(path).list(), PairkeeperError);
  });

  it('leaves no temporary file behind and keeps the file private (0600)', async () => {
    const store = new FileClaimStore(path);
    await store.create(claim('web', 'n1', 'i-1'));
    await store.release(claim('web', 'n1', 'i-1'));
    assert.deepEqual(await readdir(join(dir, 'var')), ['claims.json']);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
});

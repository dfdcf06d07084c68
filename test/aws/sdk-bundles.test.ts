import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SDK_DIR, sameCopy, writeAwsSdkBundles } from '../../scripts/aws-sdk-bundles.ts';

const lists = readdirSync(SDK_DIR).filter((file) => file.endsWith('.d.ts'));

describe('the AWS SDK clients pairkeeper ships (src/aws/sdk)', () => {
  it('are what npm run aws-sdk-bundles writes from the lists and the installed SDK', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'pk-sdk-bundles-'));
    const written = await writeAwsSdkBundles(fresh);
    const shipped = readdirSync(SDK_DIR).filter((file) => file.endsWith('.js'));
    assert.deepEqual(shipped.sort(), written.sort(), 'a bundle without its list, or a list without its bundle');
    for (const name of written) {
      const same = readFileSync(join(fresh, name), 'utf8') === readFileSync(join(SDK_DIR, name), 'utf8');
      assert.ok(same, `src/aws/sdk/${name} is not what its list and the installed SDK give: run npm run aws-sdk-bundles`);
    }
  });

  for (const list of lists) {
    it(`${list.replace('.d.ts', '.js')} exports exactly what ${list} lists`, async () => {
      const listed = [...readFileSync(join(SDK_DIR, list), 'utf8').matchAll(/^ {2}(\w+),$/gm)].map((m) => m[1] ?? '');
      assert.ok(listed.length > 1, `${list} lists a client and its commands`);
      const bundle = (await import(join(SDK_DIR, list.replace('.d.ts', '.js')))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(bundle).sort(), listed.sort());
      for (const name of listed) assert.equal(typeof bundle[name], 'function', `${name} is a class`);
    });
  }

  it('refuse a shared package that resolves, from src/aws/sdk, to another copy than the client loads', () => {
    const root = mkdtempSync(join(tmpdir(), 'pk-sdk-copies-'));
    for (const dir of ['client', 'shipped']) {
      mkdirSync(join(root, dir, 'node_modules', 'shared'), { recursive: true });
      writeFileSync(join(root, dir, 'node_modules', 'shared', 'index.js'), '');
    }
    const client = join(root, 'client', 'package.json');
    assert.throws(() => sameCopy('shared', client, join(root, 'shipped', 'ec2.js')), /shared: the SDK client loads .*client.*, a bundle .* would load .*shipped/);
    assert.doesNotThrow(() => sameCopy('shared', client, join(root, 'client', 'ec2.js')));
  });
});

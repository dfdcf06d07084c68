import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The house reads top-down: cli → server → app → routes → controller facade →
 * controller → adapters (aws, claims, sns, notify, volume-prep) → domain. Every
 * import in src/ (and bench/) is checked against the table below; an import that
 * runs back up fails `npm test`, naming the file and the import.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** Leaves anyone may import: they import nothing above themselves. */
const SHARED = ['errors.ts', 'backoff.ts', 'poll.ts', 'count-by.ts', 'logger.ts', 'metrics.ts', 'text-table.ts', 'files/', 'config/'];
const ADAPTERS = ['aws/', 'claims/', 'sns/', 'notify/', 'volume-prep/', 'events/', 'intake/'];

/** For each layer (a path prefix under src/), the prefixes it may import. */
const RULES: { layer: string; may: string[] }[] = [
  { layer: 'domain/', may: ['domain/'] },
  { layer: 'config/', may: ['config/', 'domain/', 'errors.ts'] },
  // The IAM policy a configuration needs: pure, from the config and the domain's filters and tags.
  { layer: 'iam/', may: ['iam/', 'config/', 'domain/', 'errors.ts'] },
  ...SHARED.filter((s) => s !== 'config/').map((layer) => ({ layer, may: [layer, 'errors.ts', 'files/'] })),
  // Adapters may use the AWS plumbing (pacing, retry, error classification), never the controller or above.
  ...ADAPTERS.map((layer) => ({ layer, may: [layer, 'aws/', 'domain/', ...SHARED] })),
  { layer: 'controller/', may: ['controller/', ...ADAPTERS, 'domain/', ...SHARED] },
  // Routes and the command line see the controller through its facade only.
  { layer: 'routes/', may: ['routes/', 'controller/facade.ts', 'domain/', ...SHARED] },
  // `pairs create` and `setup`: plans over the AWS adapters, from the config; never the controller.
  { layer: 'setup/', may: ['setup/', 'aws/', 'domain/', 'iam/', ...SHARED] },
  { layer: 'cli/', may: ['cli/', 'controller/facade.ts', 'iam/', 'setup/run.ts', ...SHARED] },
  { layer: 'controller-metrics.ts', may: ['controller/facade.ts', ...SHARED] },
  { layer: 'app.ts', may: ['routes/', 'controller/facade.ts', 'controller-metrics.ts', ...ADAPTERS, 'domain/', ...SHARED] },
  { layer: 'server.ts', may: ['app.ts', 'aws/clients.ts', ...SHARED] },
  { layer: 'cli.ts', may: ['cli/', 'server.ts', 'setup/run.ts', ...SHARED] },
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports (static and dynamic) of a file, resolved to paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

function layerOf(path: string): string | undefined {
  const rel = relative(SRC, path);
  return RULES.map((r) => r.layer).find((layer) => rel === layer || (layer.endsWith('/') && rel.startsWith(layer)));
}

function violations(): string[] {
  const found: string[] = [];
  for (const file of files(SRC)) {
    const layer = layerOf(file);
    const rel = relative(SRC, file);
    if (!layer) {
      found.push(`${rel}: in no layer (add it to test/architecture/layers.test.ts)`);
      continue;
    }
    const may = RULES.find((r) => r.layer === layer)!.may;
    for (const target of importsOf(file)) {
      const to = relative(SRC, target);
      if (to.startsWith('..')) {
        found.push(`${rel} imports ${relative(ROOT, target)}, outside src/`);
        continue;
      }
      if (!may.some((m) => to === m || (m.endsWith('/') && to.startsWith(m)))) found.push(`${rel} (${layer}) imports ${to}`);
    }
  }
  return found;
}

describe('layering', () => {
  it('no import in src/ runs back up the layers', () => {
    assert.deepEqual(violations(), []);
  });

  it('bench/ does not import from test/', () => {
    const bad = files(join(ROOT, 'bench')).flatMap((f) => importsOf(f).filter((t) => relative(ROOT, t).startsWith('test/')).map((t) => `${relative(ROOT, f)} imports ${relative(ROOT, t)}`));
    assert.deepEqual(bad, []);
  });

  it('the check itself catches an upward import', () => {
    // The table must refuse what the issue names: an adapter importing the controller, a route importing internals.
    const allowed = (from: string, to: string) => RULES.find((r) => r.layer === from)!.may.some((m) => to === m || (m.endsWith('/') && to.startsWith(m)));
    assert.equal(allowed('sns/', 'controller/controller.ts'), false);
    assert.equal(allowed('aws/', 'app.ts'), false);
    assert.equal(allowed('routes/', 'controller/resync.ts'), false);
    assert.equal(allowed('cli/', 'routes/pairs.ts'), false);
    assert.equal(allowed('domain/', 'errors.ts'), false);
    assert.equal(allowed('notify/', 'controller/facade.ts'), false);
    assert.equal(allowed('routes/', 'controller/facade.ts'), true);
    assert.equal(allowed('setup/', 'controller/facade.ts'), false);
    assert.equal(allowed('cli/', 'setup/pairs-create.ts'), false);
    assert.equal(allowed('cli/', 'aws/setup-gateway.ts'), false);
  });
});

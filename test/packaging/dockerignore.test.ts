import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import dockerignore from '@balena/dockerignore';
import { DockerfileParser } from 'dockerfile-ast';

// CommonJS typed as `export default`: under nodenext that is `.default`, which the module also sets.
const ignore = dockerignore.default;

/**
 * What `docker build .` sends, decided by .dockerignore with Docker's own matching
 * rules (@balena/dockerignore is a port of them): the service's code and package
 * files go in; tests, the fake AWS and its keys, local state and secrets stay out.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const MUST_STAY_OUT = [
  'test/cli.test.ts',
  'fake-aws/index.ts',
  'fake-aws/tls/localhost-key.pem',
  'bench/run.ts',
  'config/pairkeeper.yaml',
  '.tmp/scratch.ts',
  'var/claims.json',
  'node_modules/fastify/package.json',
  '.git',
  '.git/config',
  '.ci/run',
  // Secrets that might be dropped into the tree, even under src/.
  'admin-token',
  'src/tls/privkey.pem',
  'src/server.key',
  'src/admin-token.txt',
  'src/routes/pairs.test.ts',
];

/** Every file under src/ as the image needs it, and the files npm ci needs. */
function mustGoIn(): string[] {
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
  return ['package.json', 'package-lock.json', ...sources];
}

function contextProblems(dockerignore: string): string[] {
  const ignored = ignore().add(dockerignore);
  return [
    ...MUST_STAY_OUT.filter((path) => !ignored.ignores(path)).map((path) => `${path} is sent`),
    ...mustGoIn().filter((path) => ignored.ignores(path)).map((path) => `${path} is left out`),
  ];
}

describe('.dockerignore', () => {
  it('sends src/ and the package files, and leaves out tests, fake-aws, bench, local state and secrets', () => {
    assert.deepEqual(contextProblems(read('.dockerignore')), []);
  });

  it('keeps in everything the Dockerfile copies from the context', () => {
    const ignored = ignore().add(read('.dockerignore'));
    const copies = DockerfileParser.parse(read('Dockerfile'))
      .getCOPYs()
      .filter((c) => c.getFlags().length === 0);
    const sources = copies.flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    assert.deepEqual(sources, ['package.json', 'package-lock.json', 'package.json', 'src']);
    assert.deepEqual(sources.filter((s) => ignored.ignores(s)), []);
  });

  it('would fail on a .dockerignore that only leaves out node_modules', () => {
    const problems = contextProblems('node_modules/\n');
    for (const path of ['test/cli.test.ts', 'fake-aws/tls/localhost-key.pem', '.git', 'var/claims.json', 'src/tls/privkey.pem']) {
      assert.ok(problems.includes(`${path} is sent`), path);
    }
    assert.equal(contextProblems('*\n').filter((p) => p.endsWith('is left out')).length, mustGoIn().length);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { imageNodeFlags } from '../../bench/image-node.ts';

/**
 * The image, checked without a Docker engine: the Dockerfile is linted the way the
 * Docker language server lints it (dockerfile-utils reports what the builder would
 * refuse or warn about), then held to what an operator may expect of pairkeeper's
 * image. Each check returns its problems, so a broken Dockerfile shows that both
 * can fail.
 */
const DOCKERFILE = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const CONFIG_PATH = '/etc/pairkeeper/pairkeeper.yaml';

function lint(text: string): string[] {
  return validate(text).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
}

function policy(text: string): string[] {
  const file = DockerfileParser.parse(text);
  const froms = file.getFROMs();
  const stages = new Set(froms.map((f) => f.getBuildStage()).filter((name) => name !== null));
  const problems: string[] = [];
  if (froms.length < 2) problems.push('one stage: npm ci belongs in a build stage of its own');
  for (const from of froms) {
    if (stages.has(from.getImage() ?? '')) continue; // FROM an earlier stage
    if (from.getImageName() !== 'node' || !/^24(\.\d+)*-slim$/.test(from.getImageTag() ?? '')) problems.push(`FROM ${from.getImage()}: expected node:24-slim`);
    // With the ARG before the first FROM expanded: a tag alone moves under a rebuild, a digest does not.
    const image = from.getExpandedArguments()[0]?.getValue() ?? '';
    if (!/@sha256:[0-9a-f]{64}$/.test(image)) problems.push(`FROM ${image}: not pinned by digest (@sha256:…)`);
  }
  for (const run of file.getInstructions().filter((i) => i.getKeyword() === 'RUN')) {
    const command = run.getArgumentsContent() ?? '';
    if (/\bnpm\s+(ci|install|i)\b/.test(command) && !/\bnpm ci\b[^;&|]*--omit=dev/.test(command)) {
      problems.push(`RUN ${command}: production dependencies only (npm ci --omit=dev)`);
    }
  }

  const last = froms.at(-1);
  const image = last && file.getContainingImage(last.getRange().start);
  if (!image) return [...problems, 'no FROM'];
  const args = (keyword: string) => image.getInstructions().filter((i) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? '');
  if (!image.getCOPYs().some((c) => c.getFlags().some((f) => f.getName() === 'from'))) problems.push('the image copies nothing from the build stage');
  const user = args('USER').at(-1);
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push(`runs as ${user ?? 'root'}: needs a USER that is not root`);
  if (!args('HEALTHCHECK').some((h) => h.includes('/healthz'))) problems.push('no HEALTHCHECK on /healthz');
  const config = image.getENVs().flatMap((e) => e.getProperties()).find((p) => p.getName() === 'PAIRKEEPER_CONFIG');
  if (config?.getValue() !== CONFIG_PATH) problems.push(`no ENV PAIRKEEPER_CONFIG=${CONFIG_PATH}`);
  const command = [...args('ENTRYPOINT'), ...args('CMD')].join(' ');
  if (!/src\/cli\.ts.*serve/.test(command)) problems.push(`runs ${command || 'nothing'}: expected src/cli.ts serve`);
  // node as PID 1 reaps no orphans: a hook's grandchildren would stay zombies. The
  // image must be right on its own, not only under `docker run --init`.
  const init = /^\[\s*"(\/usr\/bin\/tini)",\s*"--",/.exec(args('ENTRYPOINT').at(-1) ?? '')?.[1];
  const installsTini = args('RUN').some((run) => /\bapt-get install\b[^;&|]*\btini\b/.test(run));
  if (!init || !installsTini) problems.push('no init as PID 1: ENTRYPOINT ["/usr/bin/tini", "--", …] with tini installed in the image');
  return problems;
}

/**
 * Node keeps its compile cache per V8 flags and user: filled by another node command
 * line or as root, it is never read, and every start parses the AWS SDK again.
 */
function compileCacheProblems(text: string): string[] {
  const file = DockerfileParser.parse(text);
  const image = file.getContainingImage(file.getFROMs().at(-1)!.getRange().start)!;
  const instructions = image.getInstructions();
  const at = (keyword: string, match: (args: string) => boolean) => instructions.findIndex((i) => i.getKeyword() === keyword && match(i.getArgumentsContent() ?? ''));
  const problems: string[] = [];
  const cache = at('ENV', (args) => args.startsWith('NODE_COMPILE_CACHE='));
  if (cache < 0) return ['no ENV NODE_COMPILE_CACHE'];
  const fill = `node ${imageNodeFlags(text).join(' ')} src/cli.ts serve --config /dev/null`;
  const run = at('RUN', (args) => args.startsWith(`${fill} `));
  if (run < 0) return [`no RUN ${fill} …: the cache is filled by node as ENTRYPOINT runs it`];
  if (run < cache) problems.push('the cache is filled before ENV NODE_COMPILE_CACHE');
  if (run < at('COPY', (args) => args.includes('src'))) problems.push('the cache is filled before the sources are copied');
  const userAt = (end: number) => instructions.slice(0, end).filter((i) => i.getKeyword() === 'USER').at(-1)?.getArgumentsContent();
  if (userAt(run) !== userAt(instructions.length)) problems.push(`the cache is filled as ${userAt(run) ?? 'root'}, not as the USER the image runs as`);
  return problems;
}

/** Everything wrong at once, as a careless first Dockerfile might be. */
const BROKEN = `FROM node:20
workdir app
COPY . .
RUN npm install
HEALTHCHECK --interval=5 CMD
EXPOSE 80a
CMD ["node", "src/server.ts"]
`;

describe('Dockerfile', () => {
  it('passes the linter', () => {
    assert.deepEqual(lint(DOCKERFILE), []);
  });

  it('builds in two stages on node:24-slim, installs production dependencies only, runs the CLI as a user with a health check', () => {
    assert.deepEqual(policy(DOCKERFILE), []);
  });

  it('runs what the repository has', () => {
    const command = DockerfileParser.parse(DOCKERFILE).getENTRYPOINTs()[0]?.getArgumentsContent() ?? '';
    const entry = /"(src\/[\w/.-]+\.ts)"/.exec(command)?.[1];
    assert.ok(entry, command);
    assert.match(readFileSync(new URL(`../../${entry}`, import.meta.url), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('would fail on a broken Dockerfile: both the linter and the checks report it', () => {
    const problems = lint(BROKEN);
    for (const expected of [/line 2: Instructions should be written in uppercase/, /line 2: WORKDIR paths should be absolute/, /line 5: Missing command after HEALTHCHECK CMD/, /line 5: .*missing unit/, /line 6: Invalid containerPort: 80a/]) {
      assert.ok(problems.some((p) => expected.test(p)), `${expected} not in ${problems.join('; ')}`);
    }
    assert.deepEqual(policy(BROKEN), [
      'one stage: npm ci belongs in a build stage of its own',
      'FROM node:20: expected node:24-slim',
      'FROM node:20: not pinned by digest (@sha256:…)',
      'RUN npm install: production dependencies only (npm ci --omit=dev)',
      'the image copies nothing from the build stage',
      'runs as root: needs a USER that is not root',
      'no HEALTHCHECK on /healthz',
      `no ENV PAIRKEEPER_CONFIG=${CONFIG_PATH}`,
      'runs ["node", "src/server.ts"]: expected src/cli.ts serve',
      'no init as PID 1: ENTRYPOINT ["/usr/bin/tini", "--", …] with tini installed in the image',
    ]);
  });

  it('pins every base image by one digest, in an ARG that says how to update it', () => {
    const file = DockerfileParser.parse(DOCKERFILE);
    const stages = new Set(file.getFROMs().map((f) => f.getBuildStage()));
    const bases = file.getFROMs().filter((f) => !stages.has(f.getImage()));
    const digests = new Set(bases.map((f) => f.getImageDigest()));
    assert.equal(digests.size, 1, 'every stage on the same base');
    const [variable] = [...digests];
    const name = /^\$\{(\w+)\}$/.exec(variable ?? '')?.[1];
    assert.ok(name, `FROM …@${variable}: the digest comes from an ARG`);
    const lines = DOCKERFILE.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`ARG ${name}=sha256:`));
    assert.ok(at > 0, `ARG ${name}=sha256:… before the first FROM`);
    const comment = lines.slice(0, at).reverse().findIndex((l) => !l.startsWith('#'));
    const above = lines.slice(at - (comment < 0 ? at : comment), at).join('\n');
    assert.match(above, /imagetools inspect node:24-slim/, 'the comment above the ARG says how to find the new digest');
  });

  it('fills Node\'s compile cache at build, as the user and with the node flags the image runs serve with', () => {
    assert.deepEqual(compileCacheProblems(DOCKERFILE), []);
  });

  it('would see a compile cache filled with other flags than ENTRYPOINT\'s, or as root', () => {
    const otherFlags = DOCKERFILE.replace(/("node", )("--[^"]+", )*("src\/cli\.ts")/, '$1"--max-semi-space-size=8", $3');
    assert.notEqual(otherFlags, DOCKERFILE);
    assert.match(compileCacheProblems(otherFlags).join('; '), /^no RUN node --max-semi-space-size=8 src\/cli\.ts serve --config \/dev\/null …/);
    const asRoot = DOCKERFILE.replace(/^USER node\n((?:.*\n)*?RUN node .*src\/cli\.ts serve.*\n)/m, '$1USER node\n');
    assert.notEqual(asRoot, DOCKERFILE);
    assert.deepEqual(compileCacheProblems(asRoot), ['the cache is filled as root, not as the USER the image runs as']);
  });

  it('would see a base image pinned by tag only, or an init that is not installed', () => {
    const unpinned = DOCKERFILE.replaceAll('@${NODE_DIGEST}', '');
    assert.ok(policy(unpinned).some((p) => /^FROM node:24-slim: not pinned by digest/.test(p)), policy(unpinned).join('; '));
    const noTini = DOCKERFILE.replace(/apt-get install([^\n]*) tini/, 'apt-get install$1 curl');
    assert.notEqual(noTini, DOCKERFILE);
    assert.ok(policy(noTini).some((p) => p.startsWith('no init as PID 1')));
  });
});

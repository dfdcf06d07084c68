import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

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
      'RUN npm install: production dependencies only (npm ci --omit=dev)',
      'the image copies nothing from the build stage',
      'runs as root: needs a USER that is not root',
      'no HEALTHCHECK on /healthz',
      `no ENV PAIRKEEPER_CONFIG=${CONFIG_PATH}`,
      'runs ["node", "src/server.ts"]: expected src/cli.ts serve',
    ]);
  });
});

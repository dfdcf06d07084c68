import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HOLDER_TAG, PREPARED_TAG } from '../../src/domain/pairs.ts';

/**
 * config/iam-policy.json allows exactly the AWS calls the code makes: a command the
 * code sends that the policy lacks fails in production with AccessDenied; an action
 * the policy grants that the code never uses is privilege nobody needs.
 */
const SRC = new URL('../../src/', import.meta.url).pathname;
const SERVICE_PREFIX: Record<string, string> = { 'client-ec2': 'ec2', 'client-ssm': 'ssm', 'client-auto-scaling': 'autoscaling' };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `ec2:AttachVolume` for every `new AttachVolumeCommand(` in a file importing it from @aws-sdk/client-ec2. */
function actionsTheCodeCalls(): Set<string> {
  const actions = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const [, names, pkg] of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
      for (const name of names!.split(',').map((n) => n.trim())) {
        const command = /^(\w+)Command$/.exec(name);
        if (command && text.includes(`new ${name}(`)) actions.add(`${SERVICE_PREFIX[pkg!]}:${command[1]}`);
      }
    }
  }
  return actions;
}

interface Statement {
  Action: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
const policy = JSON.parse(readFileSync(new URL('../../config/iam-policy.json', import.meta.url), 'utf8')) as { Statement: Statement[] };
const granted = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

describe('config/iam-policy.json', () => {
  it('grants every AWS action the code calls', () => {
    const called = actionsTheCodeCalls();
    assert.ok(called.size >= 10, `found the code's commands (${called.size})`);
    assert.deepEqual([...called].filter((a) => !granted.has(a)), []);
  });

  it('grants nothing the code does not call, and no wildcard actions', () => {
    const called = actionsTheCodeCalls();
    assert.deepEqual([...granted].filter((a) => !called.has(a)), []);
    assert.deepEqual([...granted].filter((a) => a.includes('*')), []);
  });

  it('lets pairkeeper write only its own tags: the holder, and where a volume was prepared', () => {
    const tagging = policy.Statement.find((s) => [s.Action].flat().includes('ec2:CreateTags'));
    assert.deepEqual(tagging?.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'], [HOLDER_TAG, PREPARED_TAG]);
  });
});

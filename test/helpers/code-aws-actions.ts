/**
 * The IAM actions pairkeeper's code can call, read from its source: `ec2:AttachVolume`
 * for every `new AttachVolumeCommand(` in a file importing it from @aws-sdk/client-ec2.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
const SERVICE_PREFIX: Record<string, string> = { 'client-ec2': 'ec2', 'client-ssm': 'ssm', 'client-auto-scaling': 'autoscaling', 'client-sqs': 'sqs' };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

export function actionsTheCodeCalls(): Set<string> {
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

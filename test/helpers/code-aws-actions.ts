/**
 * The IAM actions pairkeeper's code can call, read from its source: `ec2:AttachVolume`
 * for every `new AttachVolumeCommand(` in a file importing it from @aws-sdk/client-ec2.
 * The service's calls are every file's but the setup gateway's (`pairs create` and
 * `setup` run with another policy, src/iam/setup-policy.ts); that file's are apart.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
const SERVICE_PREFIX: Record<string, string> = { 'client-ec2': 'ec2', 'client-ssm': 'ssm', 'client-auto-scaling': 'autoscaling', 'client-sns': 'sns', 'client-sqs': 'sqs' };
const SETUP_GATEWAY = join(SRC, 'aws/setup-gateway.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

export function actionsTheCodeCalls(): Set<string> {
  return actionsIn(sourceFiles(SRC).filter((f) => f !== SETUP_GATEWAY));
}

/** What only `pairs create` and `setup` call (they also read through the service's gateways). */
export function actionsTheSetupGatewayCalls(): Set<string> {
  return actionsIn([SETUP_GATEWAY]);
}

function actionsIn(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
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

/**
 * The IAM actions pairkeeper's code can call, read from its source: `ec2:AttachVolume`
 * for every `new AttachVolumeCommand(` in a file importing it from src/aws/sdk/ec2.js
 * (the EC2 client pairkeeper ships) or from @aws-sdk/client-ec2.
 * The service's calls are every file's but the setup gateway's (`pairs create` and
 * `setup` run with another policy, src/iam/setup-policy.ts); that file's are apart.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
/** IAM's prefix by client: `auto-scaling` from '@aws-sdk/client-auto-scaling' or '…/sdk/auto-scaling.js'. */
const SERVICE_PREFIX: Record<string, string> = { ec2: 'ec2', ssm: 'ssm', 'auto-scaling': 'autoscaling', sns: 'sns', sqs: 'sqs' };
const CLIENT = /^(?:@aws-sdk\/client-([a-z0-9-]+)|\.{1,2}\/(?:\.\.\/)*(?:aws\/)?sdk\/([a-z0-9-]+)\.js)$/;
const SETUP_GATEWAY = join(SRC, 'aws/setup-gateway.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
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
    for (const [, names, from] of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      const client = CLIENT.exec(from!);
      if (!client) continue;
      const prefix = SERVICE_PREFIX[client[1] ?? client[2]!];
      for (const name of names!.split(',').map((n) => n.trim())) {
        const command = /^(\w+)Command$/.exec(name);
        if (command && text.includes(`new ${name}(`)) actions.add(`${prefix}:${command[1]}`);
      }
    }
  }
  return actions;
}

#!/usr/bin/env node
/**
 * `pairkeeper <command>`: the service, and the checks an operator runs before
 * trusting it with a topic. Exit status: 0 done, 1 failed (AWS unreachable…),
 * 2 bad usage or invalid configuration (as the service itself exits on a bad key).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { effectiveConfigYaml } from './cli/check-config.ts';
import { iamPolicyOutput } from './cli/iam-policy.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from './config/load.ts';
import { ConfigError, PairkeeperError } from './errors.ts';
import { createLogger } from './logger.ts';

const USAGE = `Usage: pairkeeper <command> [options]

Commands:
  serve          run the service: POST /sns and GET /healthz on the public
                 listener, /v1/… and /metrics on the admin listener
  check-config   validate the config file and print the effective configuration
                 (defaults and environment overrides applied, admin token redacted)
  iam-policy     print the least-privilege IAM policy for the configuration
                 (its groups, their filter tags, region, prepare document,
                 claims prefix) as JSON; notes on what it cannot narrow go to stderr
  pairs          print each configured group's pairs as GET /v1/pairs would,
                 without starting the service; only reads (EC2 Describe calls,
                 the claims)
  pairs create   create a group's missing volumes and ENIs, tagged with their
                 NodeID and the tags the group's filters select, then print the
                 group's pairs; never duplicates, never deletes
                   --group NAME  --nodes a,b,c | --count N --prefix P
                   --subnets subnet-1,subnet-2 (the AZs follow; round-robin)
                   --size GiB [--type gp3] [--iops N] [--throughput MiB/s]
                   [--encrypted] [--kms-key KEY] [--security-groups sg-1,sg-2]
                   [--tag K=V]...
  setup          make AWS match the config: the SNS topic, the subscription of
                 --endpoint, each group's notifications and launch lifecycle hook,
                 and with intake.sqs the queue's policy and its subscription;
                 checks the region, the groups, hooks aimed elsewhere, pairs per AZ
                   [--endpoint https://host/sns] [--role-arn ARN]
                   [--hook-heartbeat SECONDS (300)] [--topic-name NAME]
  status         print GET /v1/status of the running service as text (the admin
                 listener and token of the config)
  help           print this text

Options:
  --config FILE  the config file (default: $PAIRKEEPER_CONFIG, else ${DEFAULT_CONFIG_PATH})
  --json         pairs: print {"pairs": [...]} instead of a table
  --apply        pairs create, setup: make the changes; without it they print
                 the plan (what they would create or change, and the calls)
                 and change nothing. IAM for both: pairkeeper iam-policy --for setup
  --for setup    iam-policy: the policy for pairs create and setup instead of
                 the service's own
  -h, --help     print this text

Environment:
  PAIRKEEPER_CONFIG       the config file, when --config is not given
  PAIRKEEPER_LISTEN_PORT  overrides listen.port
  PAIRKEEPER_ADMIN_PORT   overrides admin.port
  AWS credentials come from the AWS SDK's usual sources (environment, instance
  profile, ~/.aws); the region from aws.region.

Exit status: 0 done, 1 failed, 2 bad usage or invalid configuration.
`;

const config = { type: 'string' } as const;
const help = { type: 'boolean', short: 'h' } as const;
const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const COMMANDS: Record<string, ParseArgsOptionsConfig> = {
  serve: { config, help },
  'check-config': { config, help },
  'iam-policy': { config, help, for: text },
  pairs: { config, help, json: flag },
  'pairs create': {
    config,
    help,
    apply: flag,
    ...Object.fromEntries(['group', 'nodes', 'count', 'prefix', 'subnets', 'size', 'type', 'iops', 'throughput', 'kms-key', 'security-groups'].map((o) => [o, text])),
    encrypted: flag,
    tag: { type: 'string', multiple: true },
  },
  setup: { config, help, apply: flag, endpoint: text, 'hook-heartbeat': text, 'role-arn': text, 'topic-name': text },
  status: { config, help },
};

/** Runs one command; undefined for `serve`, which keeps running and exits on its own. */
async function main(args: string[]): Promise<number | undefined> {
  // `pairs create` is a command of its own: `pairs` alone only reads.
  const [command, ...rest] = args[0] === 'pairs' && args[1] === 'create' ? ['pairs create', ...args.slice(2)] : args;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = COMMANDS[command];
  if (!options) return usageError(`unknown command ${command}`);
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'serve') {
    // server.ts is the one entry that listens: it loads the config from the environment and runs on import.
    if (typeof values.config === 'string') process.env.PAIRKEEPER_CONFIG = values.config;
    await import('./server.ts');
    return undefined;
  }

  let loaded;
  try {
    loaded = loadConfig(typeof values.config === 'string' ? { ...process.env, PAIRKEEPER_CONFIG: values.config } : process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`pairkeeper: ${err.message}\n`);
    return 2;
  }
  if (command === 'check-config') {
    process.stdout.write(effectiveConfigYaml(loaded.config, loaded.path));
    return 0;
  }
  if (command === 'iam-policy') {
    if (values.for !== undefined && values.for !== 'setup') return usageError(`iam-policy --for ${String(values.for)}: only "setup" (pairs create and setup) is known`);
    const { json, notes } = iamPolicyOutput(loaded.config, values.for === 'setup' ? 'setup' : 'service');
    process.stdout.write(json);
    process.stderr.write(notes);
    return 0;
  }
  try {
    if (command === 'status') {
      const { fetchStatusText } = await import('./cli/status.ts');
      process.stdout.write(await fetchStatusText(loaded.config));
      return 0;
    }
    // The rest needs the AWS SDK, which takes longer to load than everything else here.
    const { pairTable } = await import('./cli/pairs.ts');
    // Logs go to stderr so that stdout is the table (or JSON) alone.
    const logger = createLogger(loaded.config.log.level, process.stderr);
    if (command === 'pairs') {
      process.stdout.write(await pairTable(loaded.config, logger, { json: values.json === true }));
      return 0;
    }
    const run = await import('./setup/run.ts');
    const options = { apply: values.apply === true, write: (t: string) => process.stdout.write(t) };
    if (command === 'setup') {
      const { setupInput } = await import('./cli/setup.ts');
      await run.runSetup(loaded.config, setupInput(values), options);
      return 0;
    }
    const { pairsCreateInput } = await import('./cli/pairs-create.ts');
    const input = pairsCreateInput(values);
    await run.runPairsCreate(loaded.config, input, options);
    if (options.apply) process.stdout.write(`\n${await pairTable({ ...loaded.config, groups: loaded.config.groups.filter((g) => g.name === input.group) }, logger, { json: false })}`);
    return 0;
  } catch (err) {
    const code = err instanceof PairkeeperError ? ` (${err.code})` : '';
    process.stderr.write(`pairkeeper: ${command}: ${(err as Error).message}${code}\n`);
    // Input refused before any change is bad usage; anything else (AWS said no, or what setup cannot fix) a failure.
    return err instanceof PairkeeperError && err.code === 'PK_SETUP_INPUT' ? 2 : 1;
  }
}

function usageError(message: string): number {
  process.stderr.write(`pairkeeper: ${message}\n\n${USAGE}`);
  return 2;
}

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;

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
  help           print this text

Options:
  --config FILE  the config file (default: $PAIRKEEPER_CONFIG, else ${DEFAULT_CONFIG_PATH})
  --json         pairs: print {"pairs": [...]} instead of a table
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
const COMMANDS: Record<string, ParseArgsOptionsConfig> = {
  serve: { config, help },
  'check-config': { config, help },
  'iam-policy': { config, help },
  pairs: { config, help, json: { type: 'boolean' } },
};

/** Runs one command; undefined for `serve`, which keeps running and exits on its own. */
async function main(args: string[]): Promise<number | undefined> {
  const [command, ...rest] = args;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = COMMANDS[command];
  if (!options) return usageError(`unknown command ${command}`);
  let values: { config?: string; json?: boolean; help?: boolean };
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
    if (values.config !== undefined) process.env.PAIRKEEPER_CONFIG = values.config;
    await import('./server.ts');
    return undefined;
  }

  let loaded;
  try {
    loaded = loadConfig(values.config === undefined ? process.env : { ...process.env, PAIRKEEPER_CONFIG: values.config });
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
    const { json, notes } = iamPolicyOutput(loaded.config);
    process.stdout.write(json);
    process.stderr.write(notes);
    return 0;
  }
  // Only `pairs` needs the AWS SDK, which takes longer to load than everything else here.
  const { pairTable } = await import('./cli/pairs.ts');
  // Logs go to stderr so that stdout is the table (or JSON) alone.
  const logger = createLogger(loaded.config.log.level, process.stderr);
  try {
    process.stdout.write(await pairTable(loaded.config, logger, { json: values.json ?? false }));
    return 0;
  } catch (err) {
    const code = err instanceof PairkeeperError ? ` (${err.code})` : '';
    process.stderr.write(`pairkeeper: pairs: ${(err as Error).message}${code}\n`);
    return 1;
  }
}

function usageError(message: string): number {
  process.stderr.write(`pairkeeper: ${message}\n\n${USAGE}`);
  return 2;
}

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;

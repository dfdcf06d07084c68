import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';

export const DEFAULT_CONFIG_PATH = 'config/pairkeeper.yaml';

/** Environment variables that override a key of the file, each a whole number. */
const ENV_OVERRIDES: Record<string, [section: 'listen' | 'admin' | 'replicas', key: 'port' | 'index', what: string]> = {
  PAIRKEEPER_LISTEN_PORT: ['listen', 'port', 'a port number'],
  PAIRKEEPER_ADMIN_PORT: ['admin', 'port', 'a port number'],
  PAIRKEEPER_REPLICA_INDEX: ['replicas', 'index', "this replica's index (0, 1, …)"],
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): { config: Config; path: string } {
  const path = env.PAIRKEEPER_CONFIG ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  return { config: parseConfig(text, path, env), path };
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): Config {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the top level must be a mapping of keys`);
  }
  const doc = raw as Record<string, Record<string, unknown> | undefined>;
  for (const [name, [section, key, what]] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value)) throw new ConfigError(`${name}: expected ${what}, got "${value}"`);
    doc[section] = { ...(doc[section] ?? {}), [key]: Number(value) };
  }
  const result = configSchema.safeParse(doc);
  if (!result.success) throw new ConfigError(`${source}: ${describeIssues(result.error.issues)}`);
  return withAdminToken(result.data, source);
}

/** Resolves admin.tokenFile into admin.token at start-up, so a missing file stops the process here. */
function withAdminToken(config: Config, source: string): Config {
  const { tokenFile, ...admin } = config.admin;
  if (!tokenFile) return config;
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trimEnd();
  } catch (err) {
    throw new ConfigError(`${source}: admin.tokenFile: cannot read ${tokenFile}: ${(err as Error).message}`);
  }
  if (token.length < 16) throw new ConfigError(`${source}: admin.tokenFile: the token in ${tokenFile} is shorter than 16 characters`);
  return { ...config, admin: { ...admin, token } };
}

/** One line per problem, each naming the key: `sns.topicArns.0: expected an SNS topic ARN`. */
function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .flatMap((issue) => {
      const at = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown key`);
      }
      return [`${at || '(top level)'}: ${issue.message}`];
    })
    .join('; ');
}

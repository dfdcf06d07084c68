import { stringify } from 'yaml';
import type { Config } from '../config/schema.ts';

/**
 * `pairkeeper check-config`: the configuration as the service would run with it,
 * defaults and environment overrides applied, as YAML an operator can diff against
 * their file. The admin token (from admin.token or admin.tokenFile) is redacted:
 * this output lands in terminals, tickets and CI logs.
 */
export function effectiveConfigYaml(config: Config, path: string): string {
  const shown = config.admin.token ? { ...config, admin: { ...config.admin, token: '[redacted]' } } : config;
  return `# ${path} is valid. Effective configuration, with defaults and environment overrides:\n${stringify(shown)}`;
}

/**
 * `pairkeeper iam-policy`: the least-privilege IAM policy for a configuration as JSON
 * (stdout, ready for `aws iam put-role-policy --policy-document file://…`), and what
 * the operator must know about it (stderr, so the JSON stays clean). `--for setup`
 * gives the policy of `pairs create` and `setup` instead: a person's or a pipeline's,
 * never the service's role.
 */
import type { Config } from '../config/schema.ts';
import { iamPolicy } from '../iam/policy.ts';
import { setupIamPolicy } from '../iam/setup-policy.ts';

export function iamPolicyOutput(config: Config, forWhat: 'service' | 'setup' = 'service'): { json: string; notes: string } {
  const { policy, notes } = forWhat === 'setup' ? setupIamPolicy(config) : iamPolicy(config);
  return { json: `${JSON.stringify(policy, null, 2)}\n`, notes: notes.map((n) => `pairkeeper: iam-policy: ${n}\n`).join('') };
}

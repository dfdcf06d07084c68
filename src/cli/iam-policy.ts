/**
 * `pairkeeper iam-policy`: the least-privilege IAM policy for a configuration as JSON
 * (stdout, ready for `aws iam put-role-policy --policy-document file://…`), and what
 * the operator must know about it (stderr, so the JSON stays clean).
 */
import type { Config } from '../config/schema.ts';
import { iamPolicy } from '../iam/policy.ts';

export function iamPolicyOutput(config: Config): { json: string; notes: string } {
  const { policy, notes } = iamPolicy(config);
  return { json: `${JSON.stringify(policy, null, 2)}\n`, notes: notes.map((n) => `pairkeeper: iam-policy: ${n}\n`).join('') };
}

/**
 * A small IAM policy evaluator for one policy, enough to decide the calls pairkeeper
 * makes and, for the fake, whether a queue's resource policy (its Policy attribute)
 * lets SNS send to it: Allow and Deny, `*` and `?` in actions and resources, the
 * Principal of a resource policy's statement, and the condition operators the
 * generated policy uses (String*, Arn*, Null, Bool, with the ForAllValues:/ForAnyValue:
 * set prefixes and the IfExists suffix). An operator or element it does not know
 * (NotPrincipal, NotAction, NotResource) is an error, never a silent match.
 *
 * How AWS decides, and how this follows it (IAM User Guide, "Policy evaluation logic"
 * and "Condition operators"; "Single-valued vs. multivalued condition keys"):
 * - Each resource of a call is authorized on its own; a call with no resource-level
 *   permissions is authorized on "*". The call is allowed when every resource is.
 * - An explicit Deny wins; without a matching Allow the answer is an implicit deny.
 * - Within a Condition, every operator and every key must hold (AND); the values of
 *   one key are alternatives (OR). Condition key names are case-insensitive.
 * - A single-valued operator on a key the request lacks is false (…IfExists: true).
 *   ForAllValues is true when the key is absent or empty: why a DeleteTags with no
 *   key list passes `ForAllValues:StringEquals aws:TagKeys` unless `Null` refuses it.
 *   ForAnyValue is false when the key is absent.
 * - In a Resource or ArnLike value, each of the six colon-separated ARN parts is
 *   matched on its own, so a wildcard does not reach across a colon between them.
 * - A resource policy's statement is about its Principal only: "*" (or `{"AWS": "*"}`)
 *   is anyone, `{"Service": …}` the service principals it names. Only service callers
 *   are played (SNS delivering to a queue), so an account or role principal never matches.
 */
import type { RecordedCall } from './call-recorder.ts';

type Values = string | string[];
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  /** Resource policies only: whom the statement is about. */
  Principal?: '*' | { AWS?: Values; Service?: Values };
  Action: Values;
  Resource: Values;
  Condition?: Record<string, Record<string, Values>>;
}
export interface Policy {
  Version?: string;
  Id?: string;
  Statement: Statement[];
}

export type Decision = 'allowed' | 'explicitly denied' | 'implicitly denied';

export interface Verdict {
  decision: Decision;
  /** Per resource ("*" for none), what decided it: the matching statements' Sids. */
  resources: { arn: string; decision: Decision; by: string[] }[];
}

/** Resource tags appear under each service's key as well as the global one. */
const RESOURCE_TAG_PREFIXES = ['aws:resourcetag/', 'ec2:resourcetag/', 'ssm:resourcetag/', 'autoscaling:resourcetag/'];

/** An identity policy without `principal`; a resource policy with the service principal that calls. */
export function evaluate(policy: Policy, call: RecordedCall, principal?: { service: string }): Verdict {
  for (const statement of policy.Statement) refuseUnsupported(statement);
  const statements = principal ? policy.Statement.filter((s) => principalMatches(s.Principal, principal.service)) : policy.Statement;
  const resources = call.resources.length > 0 ? call.resources : [{ arn: '*', tags: {} }];
  const verdicts = resources.map(({ arn, tags }) => {
    const keys = contextKeys(call, tags);
    const matching = statements.filter(
      (s) => list(s.Action).some((a) => glob(a, call.action, true)) && list(s.Resource).some((r) => arnLike(r, arn)) && conditionsHold(s, keys),
    );
    const deny = matching.filter((s) => s.Effect === 'Deny');
    const allow = matching.filter((s) => s.Effect === 'Allow');
    const decision: Decision = deny.length > 0 ? 'explicitly denied' : allow.length > 0 ? 'allowed' : 'implicitly denied';
    return { arn, decision, by: (deny.length > 0 ? deny : allow).map((s) => s.Sid ?? '(no Sid)') };
  });
  const decision: Decision = verdicts.find((v) => v.decision === 'explicitly denied')?.decision ?? verdicts.find((v) => v.decision === 'implicitly denied')?.decision ?? 'allowed';
  return { decision, resources: verdicts };
}

/** The negated elements match what they do not name: not played, so refused rather than misread. */
export function refuseUnsupported(statement: Statement): void {
  for (const element of ['NotPrincipal', 'NotAction', 'NotResource']) {
    if (element in statement) throw new Error(`${element} (in statement ${statement.Sid ?? '(no Sid)'}) is not supported by this evaluator`);
  }
}

/** A statement without a Principal, in a resource policy, is about nobody. */
function principalMatches(principal: Statement['Principal'], service: string): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return list(principal.AWS ?? []).includes('*') || list(principal.Service ?? []).includes(service);
}

/** The request context of one resource of a call: lower-case key → its values. */
function contextKeys(call: RecordedCall, tags: Record<string, string>): Map<string, string[]> {
  const keys = new Map<string, string[]>([['aws:requestedregion', [call.region]]]);
  for (const [key, value] of Object.entries(call.requestKeys)) keys.set(key.toLowerCase(), list(value));
  for (const [tag, value] of Object.entries(tags)) for (const prefix of RESOURCE_TAG_PREFIXES) keys.set(`${prefix}${tag.toLowerCase()}`, [value]);
  return keys;
}

/** Keys whose value is a list even with one element: the set operators are required for them. */
const MULTIVALUED = new Set(['aws:tagkeys']);

function conditionsHold(statement: Statement, keys: Map<string, string[]>): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, block]) =>
    Object.entries(block).every(([key, expected]) => conditionHolds(operator, key.toLowerCase(), list(expected), keys.get(key.toLowerCase()))),
  );
}

function conditionHolds(operator: string, key: string, expected: string[], actual: string[] | undefined): boolean {
  const [set, base] = operator.includes(':') ? (operator.split(':', 2) as [string, string]) : [undefined, operator];
  const ifExists = base.endsWith('IfExists');
  const test = comparison(ifExists ? base.slice(0, -'IfExists'.length) : base);
  if (test === 'null') {
    if (set || ifExists) throw new Error(`${operator}: Null takes no set prefix or IfExists`);
    return expected.every((e) => (e === 'true') === (actual === undefined));
  }
  if (set === 'ForAllValues') return (actual ?? []).every((a) => expected.some((e) => test(e, a)));
  if (set === 'ForAnyValue') return (actual ?? []).some((a) => expected.some((e) => test(e, a)));
  if (set !== undefined) throw new Error(`unknown set operator ${set}`);
  if (MULTIVALUED.has(key)) throw new Error(`${operator} on the multivalued key ${key} needs ForAllValues: or ForAnyValue:`);
  if (actual === undefined) return ifExists;
  return expected.some((e) => test(e, actual[0]!));
}

function comparison(operator: string): 'null' | ((expected: string, actual: string) => boolean) {
  switch (operator) {
    case 'Null':
      return 'null';
    case 'StringEquals':
      return (e, a) => e === a;
    case 'StringNotEquals':
      return (e, a) => e !== a;
    case 'StringEqualsIgnoreCase':
      return (e, a) => e.toLowerCase() === a.toLowerCase();
    case 'StringLike':
      return (e, a) => glob(e, a, false);
    case 'StringNotLike':
      return (e, a) => !glob(e, a, false);
    case 'ArnEquals':
    case 'ArnLike':
      return arnLike;
    case 'Bool':
      return (e, a) => e.toLowerCase() === a.toLowerCase();
    default:
      throw new Error(`condition operator ${operator} is not supported by this evaluator`);
  }
}

/** `*` and `?` wildcards; actions compare case-insensitively, everything else exactly. */
export function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** "*" matches anything; otherwise the six ARN parts are matched each on its own. */
export function arnLike(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = arnParts(pattern);
  const a = arnParts(arn);
  return p !== undefined && a !== undefined && p.every((part, i) => glob(part, a[i]!, false));
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function list(v: Values): string[] {
  return Array.isArray(v) ? v : [v];
}

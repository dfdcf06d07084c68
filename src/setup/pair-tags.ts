/**
 * The tags a new pair needs so that its group's `filters` select it, derived from the
 * filters themselves (src/domain/filters.ts), plus the operator's extra `--tag K=V`.
 * Pure. A filter tags cannot satisfy is refused with the reason:
 *
 * - `K=V` / `tag:K=V`: tag K=V. Several values, or a value with `*` or `?`: a pattern,
 *   not a value, so the operator picks one with `--tag K=V` (checked against it).
 * - `tag-key=K`: tag K must exist; the extra tag's value if one is given, else an empty
 *   value (EC2 allows it, and the filter asks for the key only: choosing a value for the
 *   operator would invent meaning).
 * - `tag-value=V`: some tag must have value V; satisfied when a derived or extra tag has it.
 * - `availability-zone`, `owner-id`: not tags. `pairs create` places pairs by subnet and
 *   cannot choose the owner, so a pair it made might not be selected: refused.
 *
 * Whatever is derived is checked against every filter at the end, so the rules above
 * cannot drift from what EC2 would select.
 */
import type { Ec2Filter } from '../domain/filters.ts';
import { HOLDER_TAG, PREPARED_TAG } from '../domain/pairs.ts';
import { SetupInputError } from './setup-errors.ts';

/** EC2 filter values take `*` (any run) and `?` (any one character). */
export function filterValueMatches(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

const isPattern = (value: string) => /[*?]/.test(value);

/** Whether a resource with these tags passes every filter (the tag filters only: the others are refused before). */
export function tagsPass(filters: Ec2Filter[], tags: Record<string, string>): boolean {
  return filters.every((f) => {
    const any = (pred: (v: string) => boolean) => f.Values.some(pred);
    if (f.Name.startsWith('tag:')) {
      const value = tags[f.Name.slice(4)];
      return value !== undefined && any((p) => filterValueMatches(p, value));
    }
    if (f.Name === 'tag-key') return any((p) => Object.keys(tags).some((k) => filterValueMatches(p, k)));
    if (f.Name === 'tag-value') return any((p) => Object.values(tags).some((v) => filterValueMatches(p, v)));
    return false;
  });
}

/**
 * The tags every pair of the group gets, NodeID aside. `filters` are the group's parsed
 * filters (without the NodeID presence filter); `nodeIds` are checked against a
 * NodeID filter, if there is one.
 */
export function pairTags(options: { group: string; filters: Ec2Filter[]; nodeIdTag: string; extra: Record<string, string>; nodeIds: string[] }): Record<string, string> {
  const { group, filters, nodeIdTag, extra } = options;
  for (const key of Object.keys(extra)) {
    if (key === nodeIdTag) throw new SetupInputError(`--tag ${key}=…: the NodeID tag comes from --nodes or --count/--prefix`);
    if (key === HOLDER_TAG || key === PREPARED_TAG) throw new SetupInputError(`--tag ${key}=…: pairkeeper writes that tag itself`);
    if (key.toLowerCase().startsWith('aws:')) throw new SetupInputError(`--tag ${key}=…: tag keys starting "aws:" are AWS's own`);
  }
  const tags: Record<string, string> = { ...extra };
  const refuse = (f: Ec2Filter, why: string) => new SetupInputError(`group ${group}: filter ${f.Name}=${f.Values.join('|')} ${why}`);
  for (const f of filters) {
    if (f.Name === 'availability-zone' || f.Name === 'owner-id') {
      throw refuse(f, `is not a tag, so pairs create cannot satisfy it (pairs go where --subnets says; remove the filter or create the pairs yourself)`);
    }
    if (f.Name.startsWith('tag:')) {
      const key = f.Name.slice(4);
      if (key === nodeIdTag) {
        const outside = options.nodeIds.filter((id) => !f.Values.some((p) => filterValueMatches(p, id)));
        if (outside.length > 0) throw refuse(f, `does not select NodeID ${outside.join(', ')}`);
        continue;
      }
      if (key in extra) {
        if (!f.Values.some((p) => filterValueMatches(p, extra[key]!))) throw refuse(f, `does not match --tag ${key}=${extra[key]!}`);
        continue;
      }
      if (f.Values.length > 1 || isPattern(f.Values[0]!)) throw refuse(f, `names no single value: choose one with --tag ${key}=VALUE`);
      tags[key] = f.Values[0]!;
    }
  }
  for (const f of filters) {
    if (f.Name === 'tag-key' && !f.Values.some((p) => Object.keys(tags).some((k) => filterValueMatches(p, k)) || p === nodeIdTag)) {
      if (f.Values.length > 1 || isPattern(f.Values[0]!)) throw refuse(f, 'names no single key: give the tag with --tag KEY=VALUE');
      tags[f.Values[0]!] = '';
    }
  }
  const withNodeId = (id: string) => ({ ...tags, [nodeIdTag]: id });
  for (const f of filters) {
    if (f.Name === 'tag-value' && !options.nodeIds.every((id) => tagsPass([f], withNodeId(id)))) throw refuse(f, 'has no tag with that value: give one with --tag KEY=VALUE');
  }
  const missed = options.nodeIds.find((id) => !tagsPass(filters, withNodeId(id)));
  if (missed !== undefined) throw new SetupInputError(`group ${group}: the derived tags ${JSON.stringify(withNodeId(missed))} would not pass its filters`);
  return tags;
}

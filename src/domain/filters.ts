/**
 * A group's filters in Smilodon's syntax, turned into EC2 filters that apply to
 * both DescribeVolumes and DescribeNetworkInterfaces:
 *
 *   Env=development,Service=etcd,tag-key=Project,availability-zone=us-east-1a
 *
 * `K=V` and `tag:K=V` mean tag K equals V; `tag-key=K` means tag K exists;
 * `availability-zone`, `tag-value` and `owner-id` pass through as EC2 filters.
 * Repeating a name gives it several values (any may match). Every other name is
 * a tag key — a filter that exists for only one of volumes and ENIs would make the
 * other Describe call fail, so none is passed through.
 */
export interface Ec2Filter {
  Name: string;
  Values: string[];
}

const PASS_THROUGH = new Set(['availability-zone', 'tag-key', 'tag-value', 'owner-id']);

export class FilterSyntaxError extends Error {}

export function parseFilters(text: string): Ec2Filter[] {
  const byName = new Map<string, string[]>();
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const eq = term.indexOf('=');
    if (eq <= 0 || eq === term.length - 1) throw new FilterSyntaxError(`"${term}" is not NAME=VALUE`);
    const key = term.slice(0, eq).trim();
    const value = term.slice(eq + 1).trim();
    const name = key.startsWith('tag:') || PASS_THROUGH.has(key) ? key : `tag:${key}`;
    if (name === 'tag:') throw new FilterSyntaxError(`"${term}" names no tag`);
    byName.set(name, [...(byName.get(name) ?? []), value]);
  }
  return [...byName].map(([Name, Values]) => ({ Name, Values }));
}

/** The group's filters plus "has the NodeID tag" (`tag:NodeID=*`): what to describe for the group's pairs. */
export function pairFilters(text: string, nodeIdTag: string): Ec2Filter[] {
  const filters = parseFilters(text);
  const name = `tag:${nodeIdTag}`;
  return filters.some((f) => f.Name === name) ? filters : [...filters, { Name: name, Values: ['*'] }];
}

import type { QueryFilter } from '../query-params.ts';
import { ec2Errors } from './errors.ts';
import type { Ec2State } from './state.ts';
import { networkInterfaceStatus, volumeStatus, type FakeInstance, type FakeNetworkInterface, type FakeSubnet, type FakeVolume } from './types.ts';

/** A filter name and the values a resource has for it (none when the field is absent). */
type Fields<T> = Record<string, (resource: T) => (string | number | boolean | undefined)[]>;

const VOLUME_FIELDS: Fields<FakeVolume> = {
  'volume-id': (v) => [v.volumeId],
  'availability-zone': (v) => [v.availabilityZone],
  status: (v) => [volumeStatus(v)],
  size: (v) => [v.size],
  'volume-type': (v) => [v.volumeType],
  encrypted: (v) => [v.encrypted],
  'multi-attach-enabled': (v) => [v.multiAttachEnabled],
  'attachment.instance-id': (v) => [v.attachment?.instanceId],
  'attachment.status': (v) => [v.attachment?.state],
  'attachment.device': (v) => [v.attachment?.device],
  'attachment.delete-on-termination': (v) => [v.attachment?.deleteOnTermination],
};

const ENI_FIELDS: Fields<FakeNetworkInterface> = {
  'network-interface-id': (e) => [e.networkInterfaceId],
  'availability-zone': (e) => [e.availabilityZone],
  status: (e) => [networkInterfaceStatus(e)],
  'subnet-id': (e) => [e.subnetId],
  'vpc-id': (e) => [e.vpcId],
  'private-ip-address': (e) => [e.privateIpAddress],
  'group-id': (e) => e.securityGroupIds,
  'attachment.instance-id': (e) => [e.attachment?.instanceId],
  'attachment.status': (e) => [e.attachment?.status],
  'attachment.device-index': (e) => [e.attachment?.deviceIndex],
  'attachment.attachment-id': (e) => [e.attachment?.attachmentId],
  'attachment.delete-on-termination': (e) => [e.attachment?.deleteOnTermination],
};

const SUBNET_FIELDS: Fields<FakeSubnet> = {
  'subnet-id': (s) => [s.subnetId],
  'availability-zone': (s) => [s.availabilityZone],
  'vpc-id': (s) => [s.vpcId],
  'cidr-block': (s) => [s.cidrBlock],
  state: () => ['available'],
  'default-for-az': () => [false],
};

function instanceFields(ec2: Ec2State): Fields<FakeInstance> {
  const primary = (i: FakeInstance) => ec2.networkInterfacesOf(i.instanceId).find((e) => e.attachment?.deviceIndex === 0);
  return {
    'instance-id': (i) => [i.instanceId],
    'instance-state-name': (i) => [i.state],
    'availability-zone': (i) => [i.availabilityZone],
    'subnet-id': (i) => [i.subnetId],
    'private-ip-address': (i) => [primary(i)?.privateIpAddress],
    'network-interface.network-interface-id': (i) => ec2.networkInterfacesOf(i.instanceId).map((e) => e.networkInterfaceId),
    'block-device-mapping.volume-id': (i) => ec2.volumesOf(i.instanceId).map((v) => v.volumeId),
  };
}

/**
 * EC2's value patterns: `*` is any run of characters, `?` exactly one, and a backslash
 * makes the next character literal (`\*`, `\?`, `\\`). Matching is case-sensitive.
 */
export function wildcardPattern(value: string): RegExp {
  let source = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) source += escapeRegExp(value[++i]!);
    else if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The tag filters every taggable resource takes: `tag:<key>`, `tag-key`, `tag-value`. */
function isTagFilter(name: string): boolean {
  return name.startsWith('tag:') || name === 'tag-key' || name === 'tag-value';
}

function tagValues(name: string, tags: Map<string, string>): string[] {
  if (name === 'tag-key') return [...tags.keys()];
  if (name === 'tag-value') return [...tags.values()];
  const value = tags.get(name.slice('tag:'.length));
  return value === undefined ? [] : [value];
}

/**
 * One predicate for a request's filters: values of one filter are ORed, filters are
 * ANDed. An unknown filter name is refused up front, as EC2 does.
 */
function compile<T extends { tags: Map<string, string> }>(filters: QueryFilter[], fields: Fields<T>): (resource: T) => boolean {
  const checks = filters.map(({ name, values }) => {
    const field = fields[name];
    if (!field && !isTagFilter(name)) throw ec2Errors.invalidValue(`The filter '${name}' is invalid`);
    const patterns = values.map(wildcardPattern);
    return (resource: T) => {
      const have = field ? field(resource) : tagValues(name, resource.tags);
      return have.some((v) => v !== undefined && patterns.some((p) => p.test(String(v))));
    };
  });
  return (resource) => checks.every((check) => check(resource));
}

export const volumeFilter = (filters: QueryFilter[]) => compile(filters, VOLUME_FIELDS);
export const networkInterfaceFilter = (filters: QueryFilter[]) => compile(filters, ENI_FIELDS);
export const subnetFilter = (filters: QueryFilter[]) => compile(filters, SUBNET_FIELDS);
export const instanceFilter = (ec2: Ec2State, filters: QueryFilter[]) => compile(filters, instanceFields(ec2));

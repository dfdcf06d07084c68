import type { Arns } from '../call-recorder.ts';
import { FakeAwsError } from '../errors.ts';
import type { QueryService } from '../protocol.ts';
import { readFilters, readList, readTags } from '../query-params.ts';
import type { XmlObject } from '../xml.ts';
import { ec2CallResources } from './call-resources.ts';
import { assertWellFormed, ec2Errors } from './errors.ts';
import { instanceFilter, networkInterfaceFilter, subnetFilter, volumeFilter } from './filters.ts';
import { PAGING, paginate, readPageRequest } from './paging.ts';
import { networkInterfaceXml, reservationXml, subnetXml, volumeAttachmentXml, volumeXml } from './render.ts';
import type { Ec2State } from './state.ts';
import { assertWritableTagKey, readTagSpecifications } from './tag-specifications.ts';
import { assertVolumeShape, isVolumeType } from './volume-rules.ts';

type Handler = (ec2: Ec2State, params: URLSearchParams) => XmlObject;

/** What EC2 answers for actions whose result is only success. */
const OK = { return: true };

const handlers: Record<string, Handler> = {
  DescribeVolumes(ec2, params) {
    const ids = readIds(params, 'VolumeId', 'vol');
    const pageRequest = readPageRequest(params, PAGING.volumes, ids.length > 0);
    const missing = ids.find((id) => !ec2.volume(id));
    if (missing) throw ec2Errors.volumeNotFound(missing);
    const matches = volumeFilter(readFilters(params));
    const selected = ec2.volumes().filter((v) => (!ids.length || ids.includes(v.volumeId)) && matches(v));
    const { page, nextToken } = paginate(selected, pageRequest);
    return { volumeSet: page.map(volumeXml), nextToken };
  },

  DescribeNetworkInterfaces(ec2, params) {
    const ids = readIds(params, 'NetworkInterfaceId', 'eni');
    const pageRequest = readPageRequest(params, PAGING.networkInterfaces, ids.length > 0);
    const missing = ids.find((id) => !ec2.networkInterface(id));
    if (missing) throw ec2Errors.networkInterfaceNotFound(missing);
    const matches = networkInterfaceFilter(readFilters(params));
    const selected = ec2.networkInterfaces().filter((e) => (!ids.length || ids.includes(e.networkInterfaceId)) && matches(e));
    const { page, nextToken } = paginate(selected, pageRequest);
    return { networkInterfaceSet: page.map((e) => networkInterfaceXml(e, ec2)), nextToken };
  },

  DescribeSubnets(ec2, params) {
    const ids = readIds(params, 'SubnetId', 'subnet');
    const pageRequest = readPageRequest(params, PAGING.subnets, ids.length > 0);
    const missing = ids.find((id) => !ec2.subnet(id));
    if (missing) throw ec2Errors.subnetNotFound(missing);
    const matches = subnetFilter(readFilters(params));
    const selected = ec2.subnets().filter((s) => (!ids.length || ids.includes(s.subnetId)) && matches(s));
    const { page, nextToken } = paginate(selected, pageRequest);
    return { subnetSet: page.map((s) => subnetXml(s, ec2)), nextToken };
  },

  /** By id only (what `pairs create` asks): an unknown group is InvalidGroup.NotFound, as EC2 says it. */
  DescribeSecurityGroups(ec2, params) {
    const ids = readList(params, 'GroupId');
    for (const id of ids) {
      assertWellFormed('sg', id);
      if (!ec2.securityGroup(id)) throw ec2Errors.securityGroupNotFound(id, ec2.vpcId);
    }
    const groups = ids.length > 0 ? ids.map((id) => ec2.securityGroup(id)!) : ec2.securityGroups();
    return { securityGroupInfo: groups.map((g) => ({ groupId: g.groupId, groupName: g.groupName, vpcId: ec2.vpcId, ownerId: ec2.accountId, ipPermissions: [], ipPermissionsEgress: [] })) };
  },

  /** The volume is `creating`, tagged from the start; `available` after createDelayMs. A ClientToken seen before answers that call's volume. */
  CreateVolume(ec2, params) {
    const earlier = byClientToken(ec2, params, (id) => ec2.volume(id));
    if (earlier) return volumeXml(earlier);
    const availabilityZone = required(params, 'AvailabilityZone');
    // An AZ of this region is the region's name and a letter (us-east-1a).
    if (!new RegExp(`^${ec2.region}[a-z]$`).test(availabilityZone)) {
      throw ec2Errors.invalidValue(`Invalid availability zone: [${availabilityZone}]`);
    }
    if (params.has('SnapshotId')) throw ec2Errors.invalidValue('fake EC2 does not create volumes from snapshots');
    const size = integer(params, 'Size');
    if (size === undefined) throw ec2Errors.missing('size');
    const volumeType = params.get('VolumeType') ?? 'gp2';
    if (!isVolumeType(volumeType)) throw ec2Errors.invalidValue(`Value (${volumeType}) for parameter volumeType is invalid.`);
    const encrypted = params.get('Encrypted') === 'true';
    const kmsKeyId = params.get('KmsKeyId') ?? undefined;
    if (kmsKeyId !== undefined && !encrypted) {
      throw new FakeAwsError('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
    }
    const shape = {
      volumeType,
      size,
      iops: integer(params, 'Iops'),
      throughput: integer(params, 'Throughput'),
      multiAttachEnabled: params.get('MultiAttachEnabled') === 'true',
    };
    assertVolumeShape(shape);
    const tags = readTagSpecifications(params, 'volume');
    const volume = ec2.createVolume({ availabilityZone, ...shape, encrypted, kmsKeyId, tags, creating: true });
    rememberClientToken(ec2, params, volume.volumeId);
    return volumeXml(volume);
  },

  CreateNetworkInterface(ec2, params) {
    const earlier = byClientToken(ec2, params, (id) => ec2.networkInterface(id));
    if (earlier) return { networkInterface: networkInterfaceXml(earlier, ec2) };
    const subnetId = required(params, 'SubnetId');
    assertWellFormed('subnet', subnetId);
    const securityGroupIds = readList(params, 'SecurityGroupId');
    for (const id of securityGroupIds) assertWellFormed('sg', id);
    const tags = readTagSpecifications(params, 'network-interface');
    const eni = ec2.createNetworkInterface({
      subnetId,
      securityGroupIds,
      privateIpAddress: params.get('PrivateIpAddress') ?? undefined,
      description: params.get('Description') ?? undefined,
      tags,
    });
    rememberClientToken(ec2, params, eni.networkInterfaceId);
    return { networkInterface: networkInterfaceXml(eni, ec2) };
  },

  DescribeInstances(ec2, params) {
    const ids = readIds(params, 'InstanceId', 'i');
    const pageRequest = readPageRequest(params, PAGING.instances, ids.length > 0);
    const missing = ids.filter((id) => !ec2.instance(id));
    if (missing.length) throw ec2Errors.instancesNotFound(missing);
    const matches = instanceFilter(ec2, readFilters(params));
    const selected = ec2.instances().filter((i) => (!ids.length || ids.includes(i.instanceId)) && matches(i));
    const { page, nextToken } = paginate(selected, pageRequest);
    return { reservationSet: page.map((i) => reservationXml(ec2, i)), nextToken };
  },

  AttachVolume(ec2, params) {
    const volume = ec2.attachVolume({
      volumeId: required(params, 'VolumeId'),
      instanceId: required(params, 'InstanceId'),
      device: required(params, 'Device'),
    });
    return volumeAttachmentXml(volume.volumeId, volume.attachment!);
  },

  AttachNetworkInterface(ec2, params) {
    const raw = required(params, 'DeviceIndex');
    const deviceIndex = Number(raw);
    if (!Number.isInteger(deviceIndex) || deviceIndex < 0) {
      throw ec2Errors.invalidValue(`Value (${raw}) for parameter deviceIndex is invalid.`);
    }
    const attachment = ec2.attachNetworkInterface({
      networkInterfaceId: required(params, 'NetworkInterfaceId'),
      instanceId: required(params, 'InstanceId'),
      deviceIndex,
    });
    return { attachmentId: attachment.attachmentId, networkCardIndex: 0 };
  },

  DetachNetworkInterface(ec2, params) {
    ec2.detachNetworkInterface({ attachmentId: required(params, 'AttachmentId'), force: params.get('Force') === 'true' });
    return OK;
  },

  ModifyNetworkInterfaceAttribute(ec2, params) {
    const eniId = required(params, 'NetworkInterfaceId');
    const attachmentId = params.get('Attachment.AttachmentId');
    if (attachmentId === null) {
      // The only attribute pairkeeper changes; others would be silently ignored otherwise.
      throw ec2Errors.invalidValue('fake EC2 supports only the Attachment attribute of ModifyNetworkInterfaceAttribute');
    }
    const dot = required(params, 'Attachment.DeleteOnTermination');
    ec2.setNetworkInterfaceDeleteOnTermination(eniId, attachmentId, dot === 'true');
    return OK;
  },

  CreateTags(ec2, params) {
    const ids = requiredList(params, 'ResourceId');
    const tags = readTags(params);
    if (!tags.length) throw ec2Errors.missing('Tag');
    for (const { key } of tags) assertWritableTagKey(key);
    // Validate every id before changing any, so a bad id leaves nothing half-tagged.
    const targets = ids.map((id) => ec2.tagsOf(id));
    for (const target of targets) for (const { key, value } of tags) target.set(key, value ?? '');
    return OK;
  },

  /** A tag with no Value is deleted whatever its value; with a Value (even ''), only when it matches. */
  DeleteTags(ec2, params) {
    const targets = requiredList(params, 'ResourceId').map((id) => ec2.tagsOf(id));
    const tags = readTags(params);
    for (const target of targets) {
      if (!tags.length) target.clear();
      for (const { key, value } of tags) if (value === undefined || target.get(key) === value) target.delete(key);
    }
    return OK;
  },
};

/** The fake EC2 Query API (`Version=2016-11-15`), backed by `ec2`. */
export function createEc2Service(ec2: Ec2State, arns: Arns): QueryService {
  return {
    kind: 'query',
    name: 'EC2',
    version: '2016-11-15',
    xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
    style: 'ec2',
    iamPrefix: 'ec2',
    callResources: (action, params) => ec2CallResources(ec2, arns, action, params),
    handle(action, params) {
      const handler = handlers[action];
      if (!handler) throw new FakeAwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
      ec2.throttling.take(action, params);
      if (params.get('DryRun') === 'true') {
        throw new FakeAwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      }
      return handler(ec2, params);
    },
  };
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') throw ec2Errors.missing(name);
  return value;
}

function requiredList(params: URLSearchParams, prefix: string): string[] {
  const values = readList(params, prefix);
  if (!values.length) throw ec2Errors.missing(`${prefix}.1`);
  return values;
}

/** An integer parameter; EC2 words a bad one as it does any invalid value. */
function integer(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw ec2Errors.invalidValue(`Value (${raw}) for parameter ${name.charAt(0).toLowerCase()}${name.slice(1)} is invalid.`);
  return n;
}

function readIds(params: URLSearchParams, prefix: string, idPrefix: 'i' | 'vol' | 'eni' | 'subnet'): string[] {
  const ids = readList(params, prefix);
  for (const id of ids) assertWellFormed(idPrefix, id);
  return ids;
}

/** EC2's idempotency: a create with a ClientToken it has seen answers what that call made (if it still exists). */
function byClientToken<T>(ec2: Ec2State, params: URLSearchParams, find: (id: string) => T | undefined): T | undefined {
  const token = params.get('ClientToken');
  const id = token === null ? undefined : ec2.clientTokens.get(token);
  return id === undefined ? undefined : find(id);
}

function rememberClientToken(ec2: Ec2State, params: URLSearchParams, id: string): void {
  const token = params.get('ClientToken');
  if (token !== null) ec2.clientTokens.set(token, id);
}

/**
 * The resources an EC2 call is authorized against, as the Service Authorization
 * Reference lists them (test/config/iam-policy.test.ts checks that table): AttachVolume
 * an instance and a volume, Attach/DetachNetworkInterface an instance and an ENI,
 * ModifyNetworkInterfaceAttribute the ENI and, when it changes an attachment, that
 * attachment's instance; Create/DeleteTags each tagged resource; CreateVolume the new
 * volume and CreateNetworkInterface the new ENI (as `volume/*`, `network-interface/*`:
 * they have no id yet), its subnet and security groups, with the tags of the create
 * call as aws:RequestTag/… and aws:TagKeys. Describe calls have none. Read before the
 * call changes anything, so tags are those IAM would see.
 */
import { NO_RESOURCES, tagsOf, type Arns, type CallResources, type RecordedResource } from '../call-recorder.ts';
import { readList, readTags } from '../query-params.ts';
import type { Ec2State } from './state.ts';

export function ec2CallResources(ec2: Ec2State, arns: Arns, action: string, params: URLSearchParams): CallResources {
  const resource = (id: string | null): RecordedResource[] => {
    if (!id) return [];
    if (id.startsWith('vol-')) return [{ arn: arns.of('ec2', `volume/${id}`), tags: tagsOf(ec2.volume(id)?.tags) }];
    if (id.startsWith('eni-')) return [{ arn: arns.of('ec2', `network-interface/${id}`), tags: tagsOf(ec2.networkInterface(id)?.tags) }];
    return [{ arn: arns.of('ec2', `instance/${id}`), tags: tagsOf(ec2.instance(id)?.tags) }];
  };
  const attachmentHolder = (attachmentId: string | null) =>
    ec2.networkInterfaces().find((e) => attachmentId !== null && e.attachment?.attachmentId === attachmentId);

  switch (action) {
    case 'AttachVolume':
      return { resources: [...resource(params.get('InstanceId')), ...resource(params.get('VolumeId'))], requestKeys: {} };
    case 'AttachNetworkInterface':
      return { resources: [...resource(params.get('InstanceId')), ...resource(params.get('NetworkInterfaceId'))], requestKeys: {} };
    case 'DetachNetworkInterface': {
      const eni = attachmentHolder(params.get('AttachmentId'));
      return { resources: [...resource(eni?.attachment?.instanceId ?? null), ...resource(eni?.networkInterfaceId ?? null)], requestKeys: {} };
    }
    case 'ModifyNetworkInterfaceAttribute': {
      const instanceId = attachmentHolder(params.get('Attachment.AttachmentId'))?.attachment?.instanceId ?? null;
      return { resources: [...resource(params.get('NetworkInterfaceId')), ...resource(instanceId)], requestKeys: {} };
    }
    case 'CreateTags':
    case 'DeleteTags': {
      const tags = readTags(params);
      // A DeleteTags without tags (it deletes every tag) carries no aws:TagKeys at all.
      const requestKeys: CallResources['requestKeys'] = tags.length === 0 ? {} : { 'aws:TagKeys': tags.map((t) => t.key) };
      if (action === 'CreateTags') for (const { key, value } of tags) requestKeys[`aws:RequestTag/${key}`] = value ?? '';
      return { resources: readList(params, 'ResourceId').flatMap(resource), requestKeys };
    }
    case 'CreateVolume':
      return { resources: [{ arn: arns.of('ec2', 'volume/*'), tags: {} }], requestKeys: createTagKeys(params) };
    case 'CreateNetworkInterface': {
      const subnetId = params.get('SubnetId');
      return {
        resources: [
          { arn: arns.of('ec2', 'network-interface/*'), tags: {} },
          ...(subnetId ? [{ arn: arns.of('ec2', `subnet/${subnetId}`), tags: tagsOf(ec2.subnet(subnetId)?.tags) }] : []),
          ...readList(params, 'SecurityGroupId').map((id) => ({ arn: arns.of('ec2', `security-group/${id}`), tags: {} })),
        ],
        requestKeys: createTagKeys(params),
      };
    }
    default:
      return NO_RESOURCES;
  }
}

/** The tags of a create call's TagSpecifications, as IAM sees them (read leniently: validation comes after). */
function createTagKeys(params: URLSearchParams): CallResources['requestKeys'] {
  const tags = [];
  for (let n = 1; params.has(`TagSpecification.${n}.Tag.1.Key`) || params.has(`TagSpecification.${n}.ResourceType`); n++) tags.push(...readTags(params, `TagSpecification.${n}.Tag`));
  if (tags.length === 0) return {};
  const keys: CallResources['requestKeys'] = { 'aws:TagKeys': tags.map((t) => t.key) };
  for (const { key, value } of tags) keys[`aws:RequestTag/${key}`] = value ?? '';
  return keys;
}

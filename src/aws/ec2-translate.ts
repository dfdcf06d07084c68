/** The SDK's EC2 shapes into pairkeeper's, at the edge. */
import type { Instance, NetworkInterface, Tag, Volume } from '@aws-sdk/client-ec2';
import type { Attachment, EniInfo, InstanceInfo, VolumeInfo } from '../domain/pairs.ts';

/** Set by Auto Scaling on the instances it launches; tags starting `aws:` cannot be written by anyone else. */
const GROUP_TAG = 'aws:autoscaling:groupName';

export function tagsOf(tags: Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
}

export function toVolume(v: Volume): VolumeInfo {
  // A volume has at most one attachment, except a Multi-Attach one, which is never a pair (buildPairs).
  const a = v.Attachments?.find((x) => x.State !== 'detached');
  return {
    volumeId: v.VolumeId!,
    availabilityZone: v.AvailabilityZone!,
    state: v.State ?? 'unknown',
    tags: tagsOf(v.Tags),
    multiAttachEnabled: v.MultiAttachEnabled === true,
    // EC2 says "" for a volume created empty.
    ...(v.SnapshotId ? { snapshotId: v.SnapshotId } : {}),
    attachment: a?.InstanceId
      ? { instanceId: a.InstanceId, state: a.State ?? 'unknown', ...optional('device', a.Device || undefined), ...optional('deleteOnTermination', a.DeleteOnTermination) }
      : undefined,
  };
}

export function toEni(n: NetworkInterface): EniInfo {
  const a = n.Attachment;
  return {
    networkInterfaceId: n.NetworkInterfaceId!,
    availabilityZone: n.AvailabilityZone!,
    status: n.Status ?? 'unknown',
    privateIpAddress: n.PrivateIpAddress,
    tags: tagsOf(n.TagSet),
    attachment:
      a?.InstanceId && a.Status !== 'detached'
        ? {
            instanceId: a.InstanceId,
            state: a.Status ?? 'unknown',
            ...optional('deviceIndex', a.DeviceIndex),
            ...optional('attachmentId', a.AttachmentId || undefined),
            ...optional('deleteOnTermination', a.DeleteOnTermination),
          }
        : undefined,
  };
}

export function toInstance(i: Instance): InstanceInfo {
  const instanceId = i.InstanceId!;
  const attachments = new Map<string, Attachment>();
  for (const m of i.BlockDeviceMappings ?? []) {
    const ebs = m.Ebs;
    if (!ebs?.VolumeId || ebs.Status === 'detached') continue;
    attachments.set(ebs.VolumeId, { instanceId, state: ebs.Status ?? 'unknown', ...optional('device', m.DeviceName || undefined), ...optional('deleteOnTermination', ebs.DeleteOnTermination) });
  }
  for (const n of i.NetworkInterfaces ?? []) {
    const a = n.Attachment;
    if (!n.NetworkInterfaceId || !a || a.Status === 'detached') continue;
    attachments.set(n.NetworkInterfaceId, {
      instanceId,
      state: a.Status ?? 'unknown',
      ...optional('deviceIndex', a.DeviceIndex),
      ...optional('attachmentId', a.AttachmentId || undefined),
      ...optional('deleteOnTermination', a.DeleteOnTermination),
    });
  }
  return {
    instanceId,
    state: i.State?.Name ?? 'unknown',
    availabilityZone: i.Placement?.AvailabilityZone ?? '',
    autoScalingGroup: tagsOf(i.Tags)[GROUP_TAG],
    attachments,
  };
}

/** `{ [key]: value }`, or nothing when EC2 left the field out (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The SDK's EC2 shapes into pairkeeper's, at the edge. */
import type { Instance, NetworkInterface, Tag, Volume } from '@aws-sdk/client-ec2';
import type { EniInfo, InstanceInfo, VolumeInfo } from '../domain/pairs.ts';

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
      ? { instanceId: a.InstanceId, state: a.State ?? 'unknown', ...(a.Device ? { device: a.Device } : {}), ...(a.DeleteOnTermination === undefined ? {} : { deleteOnTermination: a.DeleteOnTermination }) }
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
            ...(a.DeviceIndex === undefined ? {} : { deviceIndex: a.DeviceIndex }),
            ...(a.AttachmentId ? { attachmentId: a.AttachmentId } : {}),
            ...(a.DeleteOnTermination === undefined ? {} : { deleteOnTermination: a.DeleteOnTermination }),
          }
        : undefined,
  };
}

export function toInstance(i: Instance): InstanceInfo {
  return {
    instanceId: i.InstanceId!,
    state: i.State?.Name ?? 'unknown',
    availabilityZone: i.Placement?.AvailabilityZone ?? '',
    autoScalingGroup: tagsOf(i.Tags)[GROUP_TAG],
  };
}

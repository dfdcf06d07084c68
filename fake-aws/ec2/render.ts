import type { XmlObject } from '../xml.ts';
import type { Ec2State } from './state.ts';
import {
  INSTANCE_STATE_CODES,
  networkInterfaceStatus,
  volumeStatus,
  type FakeInstance,
  type FakeNetworkInterface,
  type FakeSubnet,
  type FakeVolume,
  type NetworkInterfaceAttachment,
  type VolumeAttachment,
} from './types.ts';

/**
 * Resources as EC2's XML, element names as the SDK's EC2 schemas read them
 * (`volumeSet`/`attachmentSet`/`status`, `networkInterfaceSet`/`attachment`,
 * `reservationSet`/`instancesSet`/`instanceState`, `tagSet`). AWS leaves `tagSet` out
 * when a resource has no tags, so do we.
 */
export function tagSet(tags: Map<string, string>): XmlObject[] | undefined {
  return tags.size ? [...tags].map(([key, value]) => ({ key, value })) : undefined;
}

export function volumeXml(v: FakeVolume): XmlObject {
  return {
    volumeId: v.volumeId,
    size: v.size,
    snapshotId: v.snapshotId ?? '',
    availabilityZone: v.availabilityZone,
    status: volumeStatus(v),
    createTime: v.createTime.toISOString(),
    attachmentSet: v.attachment ? [volumeAttachmentXml(v.volumeId, v.attachment)] : [],
    tagSet: tagSet(v.tags),
    volumeType: v.volumeType,
    iops: v.iops,
    throughput: v.throughput,
    encrypted: v.encrypted,
    kmsKeyId: v.kmsKeyId,
    multiAttachEnabled: v.multiAttachEnabled,
  };
}

/** DescribeSubnets' item; the fake's subnets are all in one VPC, none default for its AZ. */
export function subnetXml(s: FakeSubnet, ec2: Ec2State): XmlObject {
  const used = ec2.networkInterfaces().filter((e) => e.subnetId === s.subnetId).length;
  return {
    subnetId: s.subnetId,
    subnetArn: `arn:aws:ec2:${ec2.region}:${ec2.accountId}:subnet/${s.subnetId}`,
    state: 'available',
    vpcId: s.vpcId,
    ownerId: ec2.accountId,
    cidrBlock: s.cidrBlock,
    // A /20 has 4096 addresses; AWS keeps five of them.
    availableIpAddressCount: 4091 - used,
    availabilityZone: s.availabilityZone,
    defaultForAz: false,
    mapPublicIpOnLaunch: false,
    assignIpv6AddressOnCreation: false,
    ipv6CidrBlockAssociationSet: [],
    tagSet: tagSet(s.tags),
  };
}

/** A volume's attachment: in DescribeVolumes' `attachmentSet`, and the whole answer of AttachVolume. */
export function volumeAttachmentXml(volumeId: string, a: VolumeAttachment): XmlObject {
  return {
    volumeId,
    instanceId: a.instanceId,
    device: a.device,
    status: a.state,
    attachTime: a.attachTime.toISOString(),
    deleteOnTermination: a.deleteOnTermination,
  };
}

export function networkInterfaceXml(e: FakeNetworkInterface, ec2: Ec2State): XmlObject {
  const { accountId } = ec2;
  const a = e.attachment;
  return {
    networkInterfaceId: e.networkInterfaceId,
    subnetId: e.subnetId,
    vpcId: e.vpcId,
    availabilityZone: e.availabilityZone,
    description: e.description,
    ownerId: accountId,
    requesterManaged: false,
    ...eniAddressing(e, ec2),
    attachment: a && {
      attachmentId: a.attachmentId,
      instanceId: a.instanceId,
      instanceOwnerId: accountId,
      ...eniAttachmentState(a),
    },
    tagSet: tagSet(e.tags),
    privateIpAddressesSet: privateIpAddressesSet(e),
    ipv6AddressesSet: [],
    interfaceType: 'interface',
  };
}

/** One reservation per instance: the fake launches instances one at a time. */
export function reservationXml(ec2: Ec2State, i: FakeInstance): XmlObject {
  const enis = ec2.networkInterfacesOf(i.instanceId).sort((x, y) => x.attachment!.deviceIndex - y.attachment!.deviceIndex);
  const primary = enis.find((e) => e.attachment!.deviceIndex === 0);
  return {
    reservationId: i.reservationId,
    ownerId: ec2.accountId,
    groupSet: [],
    instancesSet: [
      {
        instanceId: i.instanceId,
        imageId: 'ami-0fa1ca9559f1892ec',
        instanceState: { code: INSTANCE_STATE_CODES[i.state], name: i.state },
        privateDnsName: primary ? privateDnsName(primary) : '',
        dnsName: '',
        reason: '',
        amiLaunchIndex: 0,
        productCodes: [],
        instanceType: 't3.micro',
        launchTime: i.launchTime.toISOString(),
        placement: { availabilityZone: i.availabilityZone, groupName: '', tenancy: 'default' },
        monitoring: { state: 'disabled' },
        subnetId: primary ? i.subnetId : undefined,
        vpcId: primary ? ec2.vpcId : undefined,
        privateIpAddress: primary?.privateIpAddress,
        groupSet: [],
        architecture: 'x86_64',
        rootDeviceType: 'ebs',
        rootDeviceName: '/dev/xvda',
        // In attach order, so the root device (attached at launch) comes first, as on AWS.
        blockDeviceMapping: ec2
          .volumesOf(i.instanceId)
          .sort((x, y) => x.attachment!.attachTime.getTime() - y.attachment!.attachTime.getTime())
          .map((v) => ({
            deviceName: v.attachment!.device,
            ebs: {
              volumeId: v.volumeId,
              status: v.attachment!.state,
              attachTime: v.attachment!.attachTime.toISOString(),
              deleteOnTermination: v.attachment!.deleteOnTermination,
            },
          })),
        virtualizationType: 'hvm',
        tagSet: tagSet(i.tags),
        networkInterfaceSet: enis.map((e) => ({
          networkInterfaceId: e.networkInterfaceId,
          subnetId: e.subnetId,
          vpcId: e.vpcId,
          description: e.description,
          ownerId: ec2.accountId,
          ...eniAddressing(e, ec2),
          attachment: { attachmentId: e.attachment!.attachmentId, ...eniAttachmentState(e.attachment!) },
          privateIpAddressesSet: privateIpAddressesSet(e),
          interfaceType: 'interface',
        })),
      },
    ],
  };
}

/*
 * An ENI shows the same status, addresses and attachment state on its own
 * (DescribeNetworkInterfaces) and inside its instance (DescribeInstances); only the
 * fields around them differ between the two.
 */
function eniAddressing(e: FakeNetworkInterface, ec2: Ec2State): XmlObject {
  return {
    status: networkInterfaceStatus(e),
    macAddress: e.macAddress,
    privateIpAddress: e.privateIpAddress,
    privateDnsName: privateDnsName(e),
    sourceDestCheck: true,
    groupSet: e.securityGroupIds.map((groupId) => ({ groupId, groupName: ec2.securityGroup(groupId)?.groupName })),
  };
}

function eniAttachmentState(a: NetworkInterfaceAttachment): XmlObject {
  return {
    deviceIndex: a.deviceIndex,
    networkCardIndex: 0,
    status: a.status,
    attachTime: a.attachTime.toISOString(),
    deleteOnTermination: a.deleteOnTermination,
  };
}

function privateIpAddressesSet(e: FakeNetworkInterface): XmlObject[] {
  return [{ privateIpAddress: e.privateIpAddress, privateDnsName: privateDnsName(e), primary: true }];
}

function privateDnsName(e: FakeNetworkInterface): string {
  return `ip-${e.privateIpAddress.replaceAll('.', '-')}.ec2.internal`;
}

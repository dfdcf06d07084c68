// What pairkeeper uses of @aws-sdk/client-ec2: ec2.js, beside this, is that package cut to it
// (npm run aws-sdk-bundles after changing this list; scripts/aws-sdk-bundles.ts says why).
export {
  EC2Client,
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';

/**
 * `pairkeeper pairs create`: the plan that gives a group the pairs it is told to have.
 * Input is checked before any call (the group, the NodeIDs, the tags the group's
 * filters need); the subnets are read next, so a subnet EC2 does not know in this
 * region stops the run before anything is created. Then the group's volumes and ENIs
 * with these NodeIDs are read, and only what is missing is planned: a NodeID that has
 * a volume or an ENI is completed in that part's AZ, never duplicated. Every create
 * call carries the NodeID and the derived tags (TagSpecifications), so no resource
 * ever exists half-tagged. New pairs are spread over the subnets round-robin.
 */
import type { Config, GroupConfig } from '../config/schema.ts';
import type { Ec2Gateway } from '../aws/ec2-gateway.ts';
import type { SetupGateway, SubnetInfo, VolumeSpec } from '../aws/setup-gateway.ts';
import { parseFilters, type Ec2Filter } from '../domain/filters.ts';
import { isValidNodeId } from '../domain/node-id.ts';
import type { EniInfo, VolumeInfo } from '../domain/pairs.ts';
import { pairTags } from './pair-tags.ts';
import { step, type Plan } from './plan.ts';
import { SetupInputError } from './setup-errors.ts';

export interface PairsCreateInput {
  group: string;
  nodeIds: string[];
  subnetIds: string[];
  volume: Omit<VolumeSpec, 'availabilityZone' | 'tags'>;
  securityGroupIds: string[];
  extraTags: Record<string, string>;
}

/** The group, its filters without the NodeID one, and the tags of its new pairs: everything that needs no call. */
export function checkPairsInput(config: Config, input: PairsCreateInput): { group: GroupConfig; filters: Ec2Filter[]; tags: Record<string, string> } {
  const group = config.groups.find((g) => g.name === input.group);
  if (!group) throw new SetupInputError(`no group ${input.group} in the config (groups: ${config.groups.map((g) => g.name).join(', ') || 'none'})`);
  if (input.nodeIds.length === 0) throw new SetupInputError('no NodeIDs: give --nodes a,b,c or --count N --prefix P');
  const invalid = input.nodeIds.filter((id) => !isValidNodeId(id));
  if (invalid.length > 0) {
    throw new SetupInputError(`invalid NodeID ${invalid.map((id) => JSON.stringify(id)).join(', ')}: 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
  }
  const repeated = input.nodeIds.filter((id, i) => input.nodeIds.indexOf(id) !== i);
  if (repeated.length > 0) throw new SetupInputError(`NodeID ${repeated.join(', ')} given twice`);
  if (input.subnetIds.length === 0) throw new SetupInputError('no subnets: give --subnets subnet-1,subnet-2 (one per AZ the group uses)');
  const filters = parseFilters(group.filters);
  const tags = pairTags({ group: group.name, filters, nodeIdTag: group.nodeIdTag, extra: input.extraTags, nodeIds: input.nodeIds });
  return { group, filters, tags };
}

export async function planPairsCreate(config: Config, input: PairsCreateInput, aws: { setup: SetupGateway; ec2: Ec2Gateway }): Promise<Plan> {
  const { group, filters, tags } = checkPairsInput(config, input);
  const subnets = await aws.setup.subnets(input.subnetIds);
  if (!subnets) throw new SetupInputError(`subnet ${input.subnetIds.join(', ')}: EC2 does not know ${input.subnetIds.length > 1 ? 'one of them' : 'it'} in ${config.aws.region} (aws.region)`);
  const ordered = input.subnetIds.map((id) => subnets.find((s) => s.subnetId === id)!);
  if (input.securityGroupIds.length > 0 && !(await aws.setup.securityGroupsExist(input.securityGroupIds))) {
    throw new SetupInputError(`security group ${input.securityGroupIds.join(', ')}: EC2 does not know ${input.securityGroupIds.length > 1 ? 'one of them' : 'it'} in ${config.aws.region}`);
  }

  // This group's parts with these NodeIDs: its filters (the NodeID one replaced) and the NodeIDs asked for.
  const nodeIdName = `tag:${group.nodeIdTag}`;
  const select = [...filters.filter((f) => f.Name !== nodeIdName), { Name: nodeIdName, Values: input.nodeIds }];
  const [volumes, enis] = await Promise.all([aws.ec2.describeVolumes(select), aws.ec2.describeNetworkInterfaces(select)]);

  const plan: Plan = { title: `pairs create: group ${group.name}, tags ${shownTags({ [group.nodeIdTag]: '<NodeID>', ...tags })}`, found: [], steps: [], warnings: [] };
  input.nodeIds.forEach((nodeId, i) => {
    const vols = volumes.filter((v) => v.tags[group.nodeIdTag] === nodeId);
    const nics = enis.filter((e) => e.tags[group.nodeIdTag] === nodeId);
    const nodeTags = { ...tags, [group.nodeIdTag]: nodeId };
    planNode(plan, { nodeId, vols, nics, home: ordered[i % ordered.length]!, subnets: ordered, nodeTags, input, aws: aws.setup });
  });
  return plan;
}

function planNode(
  plan: Plan,
  n: { nodeId: string; vols: VolumeInfo[]; nics: EniInfo[]; home: SubnetInfo; subnets: SubnetInfo[]; nodeTags: Record<string, string>; input: PairsCreateInput; aws: SetupGateway },
): void {
  const { nodeId, vols, nics } = n;
  if (vols.length > 1 || nics.length > 1) {
    plan.warnings.push(`${nodeId}: ${vols.length} volumes and ${nics.length} ENIs carry it; a broken pair, left alone (pairkeeper never uses it)`);
    return;
  }
  const zones = new Set([...vols.map((v) => v.availabilityZone), ...nics.map((e) => e.availabilityZone)]);
  if (zones.size > 1) {
    plan.warnings.push(`${nodeId}: its volume and ENI are in different AZs (${[...zones].join(', ')}); a broken pair, left alone`);
    return;
  }
  const zone = [...zones][0] ?? n.home.availabilityZone;
  const subnet = zones.size === 0 ? n.home : n.subnets.find((s) => s.availabilityZone === zone);
  const [vol, nic] = [vols[0], nics[0]];
  if (vol) plan.found.push(`${nodeId}  volume ${vol.volumeId} in ${zone}`);
  else {
    const spec: VolumeSpec = { ...n.input.volume, availabilityZone: zone, tags: n.nodeTags };
    plan.steps.push(step(`create volume for ${nodeId} in ${zone} (${volumeShape(spec)})`, 'ec2:CreateVolume', async () => `created volume ${await n.aws.createVolume(spec)} for ${nodeId} in ${zone}`));
  }
  if (nic) plan.found.push(`${nodeId}  ENI ${nic.networkInterfaceId} in ${zone}`);
  else {
    if (!subnet) throw new SetupInputError(`${nodeId} has its volume in ${zone}: give a subnet in ${zone} with --subnets to complete it`);
    const spec = { subnetId: subnet.subnetId, securityGroupIds: n.input.securityGroupIds, description: `pairkeeper pair ${nodeId}`, tags: n.nodeTags };
    plan.steps.push(
      step(`create ENI for ${nodeId} in ${subnet.subnetId} (${zone})`, 'ec2:CreateNetworkInterface', async () => {
        const eni = await n.aws.createNetworkInterface(spec);
        return `created ENI ${eni.networkInterfaceId} (${eni.privateIpAddress ?? 'no address'}) for ${nodeId} in ${subnet.subnetId}`;
      }),
    );
  }
}


function volumeShape(v: VolumeSpec): string {
  const parts = [`${v.volumeType}`, `${v.sizeGiB} GiB`];
  if (v.iops !== undefined) parts.push(`${v.iops} IOPS`);
  if (v.throughput !== undefined) parts.push(`${v.throughput} MiB/s`);
  if (v.encrypted) parts.push(v.kmsKeyId ? `encrypted with ${v.kmsKeyId}` : 'encrypted');
  return parts.join(', ');
}

function shownTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/**
 * The EC2 calls pairkeeper makes, and nothing else (config/iam-policy.json lists the
 * same). Every call waits for its API's token, and throttling or 5xx answers are
 * retried with backoff far past the SDK's three attempts. Single items are read
 * through batched readers, so concurrent launches share their Describe calls.
 */
import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
} from './sdk/ec2.js';
import type { Ec2Filter } from '../domain/filters.ts';
import type { EniInfo, InstanceInfo, VolumeInfo } from '../domain/pairs.ts';
import { BatchedReader } from './batched-reader.ts';
import { toEni, toInstance, toVolume } from './ec2-translate.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { isAwsKind } from './aws-errors.ts';
import { awsCall, type RetryPolicy } from './retry.ts';

const MAX_FILTER_VALUES = 200; // EC2's limit on values in one filter

export type AttachAnswer = 'attaching' | 'volume-in-use' | 'device-in-use';

export class Ec2Gateway {
  readonly instances: BatchedReader<InstanceInfo>;
  /**
   * The instance each ENI is attached to, by the ENI's id (undefined: attached to none):
   * one DescribeInstances filtered by ENI ids. Asked by the id of an instance's own
   * primary ENI it is a read of that instance, so a round's ENI checks and attachment
   * watches share one call where reading ENIs and instances takes two.
   */
  readonly instancesByEni: BatchedReader<InstanceInfo>;
  readonly volumes: BatchedReader<VolumeInfo>;
  readonly networkInterfaces: BatchedReader<EniInfo>;
  private readonly client: EC2Client;
  private readonly limiter: RateLimiter;
  private readonly retryPolicy: RetryPolicy;

  constructor(options: { client: EC2Client; limiter: RateLimiter; retry: RetryPolicy; batchWindowMs?: number }) {
    this.client = options.client;
    this.limiter = options.limiter;
    this.retryPolicy = options.retry;
    const windowMs = options.batchWindowMs ?? 20;
    const batch = <T>(fetchMany: (ids: string[]) => Promise<Map<string, T>>) => new BatchedReader<T>({ fetchMany, windowMs, maxBatch: MAX_FILTER_VALUES });
    this.instances = batch(async (ids) => byId(await this.describeInstances([{ Name: 'instance-id', Values: ids }]), (i) => i.instanceId));
    this.instancesByEni = batch(async (eniIds) => {
      const instances = await this.describeInstances([{ Name: 'network-interface.network-interface-id', Values: eniIds }]);
      return new Map(instances.flatMap((i) => [...i.attachments.keys()].map((id) => [id, i] as const)));
    });
    this.volumes = batch(async (ids) => byId(await this.describeVolumes([{ Name: 'volume-id', Values: ids }]), (v) => v.volumeId));
    this.networkInterfaces = batch(async (ids) =>
      byId(await this.describeNetworkInterfaces([{ Name: 'network-interface-id', Values: ids }]), (n) => n.networkInterfaceId),
    );
  }

  /**
   * The instance as EC2 shows it now, asked by its primary ENI (device 0, which stays with
   * it for life) through `instancesByEni`: the read shares the round's DescribeInstances
   * with the ENI checks. By its id when no primary ENI is known.
   */
  async readAgain(instance: InstanceInfo): Promise<InstanceInfo | undefined> {
    const primary = [...instance.attachments].find(([, a]) => a.deviceIndex === 0 && a.instanceId === instance.instanceId)?.[0];
    if (!primary) return this.instances.read(instance.instanceId);
    const now = await this.instancesByEni.read(primary);
    return now?.instanceId === instance.instanceId ? now : undefined;
  }

  describeVolumes(filters: Ec2Filter[]): Promise<VolumeInfo[]> {
    return this.pages('DescribeVolumes', (NextToken) => this.client.send(new DescribeVolumesCommand({ Filters: filters, MaxResults: 500, NextToken })), (p) =>
      (p.Volumes ?? []).map(toVolume),
    );
  }

  describeNetworkInterfaces(filters: Ec2Filter[]): Promise<EniInfo[]> {
    return this.pages(
      'DescribeNetworkInterfaces',
      (NextToken) => this.client.send(new DescribeNetworkInterfacesCommand({ Filters: filters, MaxResults: 1000, NextToken })),
      (p) => (p.NetworkInterfaces ?? []).map(toEni),
    );
  }

  describeInstances(filters: Ec2Filter[]): Promise<InstanceInfo[]> {
    return this.pages('DescribeInstances', (NextToken) => this.client.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, NextToken })), (p) =>
      (p.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map(toInstance)),
    );
  }

  /**
   * EC2's refusals are answers here: the volume is another instance's (VolumeInUse),
   * or the instance already has a volume at that device name.
   */
  async attachVolume(volumeId: string, instanceId: string, device: string): Promise<AttachAnswer> {
    try {
      await this.call('AttachVolume', () => this.client.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device })));
      return 'attaching';
    } catch (err) {
      if (isAwsKind(err, 'in-use')) return 'volume-in-use';
      if (isAwsKind(err, 'device-in-use')) return 'device-in-use';
      throw err;
    }
  }

  async attachNetworkInterface(networkInterfaceId: string, instanceId: string, deviceIndex: number): Promise<void> {
    await this.call('AttachNetworkInterface', () =>
      this.client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: networkInterfaceId, InstanceId: instanceId, DeviceIndex: deviceIndex })),
    );
  }

  /** Only ever for an ENI whose instance is shutting down or terminated (invariant 3). */
  async detachNetworkInterface(attachmentId: string): Promise<void> {
    await this.call('DetachNetworkInterface', () => this.client.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId })));
  }

  async keepEniOnTermination(networkInterfaceId: string, attachmentId: string): Promise<void> {
    await this.call('ModifyNetworkInterfaceAttribute', () =>
      this.client.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: networkInterfaceId,
          Attachment: { AttachmentId: attachmentId, DeleteOnTermination: false },
        }),
      ),
    );
  }

  async tag(resourceIds: string[], tags: Record<string, string>): Promise<void> {
    await this.call('CreateTags', () =>
      this.client.send(new CreateTagsCommand({ Resources: resourceIds, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })),
    );
  }

  /** Deletes the tag from each resource where it still has this value (EC2 leaves a tag with another value alone). */
  async untag(resourceIds: string[], tag: { key: string; value: string }): Promise<void> {
    await this.call('DeleteTags', () => this.client.send(new DeleteTagsCommand({ Resources: resourceIds, Tags: [{ Key: tag.key, Value: tag.value }] })));
  }

  /** Every page of a Describe call, each page paced and retried on its own. */
  private async pages<P extends { NextToken?: string | undefined }, T>(
    action: string,
    page: (token: string | undefined) => Promise<P>,
    items: (page: P) => T[],
  ): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const answer = await this.call(action, () => page(token));
      out.push(...items(answer));
      token = answer.NextToken;
    } while (token);
    return out;
  }

  private call<T>(action: string, send: () => Promise<T>): Promise<T> {
    return awsCall(`EC2 ${action}`, async () => {
      await this.limiter.take(action);
      return send();
    }, this.retryPolicy);
  }
}

function byId<T>(items: T[], id: (item: T) => string): Map<string, T> {
  return new Map(items.map((i) => [id(i), i]));
}

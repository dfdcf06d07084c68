/**
 * What IAM would see of each call the fake serves: the action (`ec2:AttachVolume`),
 * the region it was signed for, the resources it touches as ARNs with their tags at
 * the time of the call (before the call changes them), and the request's own
 * condition keys (`aws:TagKeys`, `aws:RequestTag/…`). A test evaluates an IAM policy
 * against these, so the policy is checked against the calls pairkeeper really makes.
 *
 * Off unless the fake is started with `recordCalls`: benchmarks make millions of calls.
 * Calls are recorded before faults and validation, as AWS authorizes before it acts.
 */
export interface RecordedResource {
  arn: string;
  tags: Record<string, string>;
}

export interface RecordedCall {
  action: string;
  region: string;
  /** Who signed it (the Credential's access key id): tells pairkeeper's calls from an operator's command's. */
  accessKeyId?: string;
  /** Empty for actions without resource-level permissions (IAM authorizes them on "*"). */
  resources: RecordedResource[];
  /** Condition keys the request itself carries, e.g. `aws:TagKeys`. */
  requestKeys: Record<string, string | string[]>;
}

/** What a service says a call touches; the server adds the action name and the region. */
export type CallResources = Pick<RecordedCall, 'resources' | 'requestKeys'>;

export const NO_RESOURCES: CallResources = { resources: [], requestKeys: {} };

export class CallRecorder {
  enabled = false;
  private readonly recorded: RecordedCall[] = [];

  /** `resources` is asked only when recording: it reads the fake's state. */
  record(action: string, authorization: string | undefined, resources: () => CallResources): void {
    if (this.enabled) this.recorded.push({ action, region: signedRegion(authorization), accessKeyId: signedAccessKey(authorization), ...resources() });
  }

  calls(): readonly RecordedCall[] {
    return this.recorded;
  }

  reset(): void {
    this.recorded.length = 0;
  }
}

/** ARNs as the fake's AWS writes them: its partition, region and account. */
export class Arns {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;

  constructor(region: string, accountId: string) {
    this.region = region;
    this.accountId = accountId;
    this.partition = partitionOf(region);
  }

  /** `account` is '' for resources AWS owns, such as the AWS-RunShellScript document. */
  of(service: string, resource: string, account = this.accountId): string {
    return `arn:${this.partition}:${service}:${this.region}:${account}:${resource}`;
  }
}

/** The partition of a region (AWS's rule, as in the SDK's partition table, for the partitions the fake plays). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The access key id a request was signed with. */
export function signedAccessKey(authorization: string | undefined): string {
  return /Credential=([^/]+)\//.exec(authorization ?? '')?.[1] ?? '';
}

/** The region a request was signed for: the credential scope of its SigV4 Authorization header. */
export function signedRegion(authorization: string | undefined): string {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1] ?? '';
}

export function tagsOf(tags: Map<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(tags ?? []);
}

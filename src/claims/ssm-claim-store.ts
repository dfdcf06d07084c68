/**
 * Claims as SSM parameters, for several replicas: `${prefix}/${group}/${nodeId}` holds
 * the claim as JSON, e.g.
 *   /pairkeeper/web/node-07 = {"group":"web","nodeId":"node-07","instanceId":"i-0abc…",
 *                              "state":"attached","since":"…","updatedAt":"…"}
 * PutParameter without Overwrite is SSM's create-if-absent, which makes a claim a lock
 * (invariant 2).
 */
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type SSMClient,
} from '../aws/sdk/ssm.js';
import { allPages } from '../aws/all-pages.ts';
import { isAwsKind, type AwsErrorKind } from '../aws/aws-errors.ts';
import { DEFAULT_RETRY_POLICY, awsCall, type RetryPolicy } from '../aws/retry.ts';
import type { Claim } from '../domain/pairs.ts';
import { ConfigError, PairkeeperError } from '../errors.ts';
import { compareClaims, isSameClaim, type ClaimIdentity, type ClaimStore } from './claim-store.ts';

export interface SsmClaimStoreOptions {
  client: SSMClient;
  /** Where the claims live, e.g. `/pairkeeper`. Everything below it must be a claim. */
  prefix: string;
  /** Applied to every SSM call, on top of whatever the client itself retries. */
  retry?: RetryPolicy;
  /** Waits for Parameter Store's bucket of the action (see ssmBucketOf), before every attempt. */
  pace?: (action: SsmAction) => Promise<void>;
}

export type SsmAction = 'PutParameter' | 'GetParameter' | 'GetParametersByPath' | 'DeleteParameter';

export class SsmClaimStore implements ClaimStore {
  private readonly client: SSMClient;
  private readonly prefix: string;
  private readonly policy: RetryPolicy;
  private readonly pace: (action: SsmAction) => Promise<void>;

  constructor(options: SsmClaimStoreOptions) {
    if (!/^(\/[\w.-]+)+$/.test(options.prefix)) throw new ConfigError(`claims prefix ${options.prefix} is not an SSM path such as /pairkeeper`);
    this.client = options.client;
    this.prefix = options.prefix;
    this.policy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.pace = options.pace ?? (() => Promise.resolve());
  }

  async create(claim: Claim): Promise<boolean> {
    const name = this.nameOf(claim.group, claim.nodeId);
    const value = serialize(claim);
    let attempts = 0;
    const created = await this.call('PutParameter', `creating claim ${name}`, () => {
      attempts++;
      const put = new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: false });
      return this.client.send(put).then(() => true, answer('already-exists', false));
    });
    if (created || attempts === 1) return created;
    // A failed earlier attempt (a timeout, a 5xx) may have been applied with its answer
    // lost; then the name holds exactly our value and the claim is ours. Answering false
    // would leave this instance holding a pair it does not know about.
    return (await this.read(name)) === value;
  }

  async get(group: string, nodeId: string): Promise<Claim | undefined> {
    const name = this.nameOf(group, nodeId);
    const value = await this.read(name);
    return value === undefined ? undefined : this.parse(name, value);
  }

  async list(group?: string): Promise<Claim[]> {
    const path = group === undefined ? this.prefix : `${this.prefix}/${encodeSegment(group)}`;
    const parameters = await allPages(
      (token) =>
        this.call('GetParametersByPath', `listing claims under ${path}`, () =>
          this.client.send(new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 10, NextToken: token })),
        ),
      (page) => page.Parameters,
    );
    return parameters.map((p) => this.parse(p.Name ?? '(unnamed)', p.Value)).sort(compareClaims);
  }

  /*
   * release reads, checks that the claim is still the one to release (its instance and
   * the moment it was made), then deletes. A release that read its claim long ago (two
   * replicas, or resync and an SNS terminate, releasing the same claim) finds a claim
   * made since and deletes nothing. SSM has no conditional delete (DeleteParameter cannot
   * say "only if the value is still X"), so the read and the delete are two calls and a
   * claim made in the milliseconds between them would be deleted. Its holder loses
   * nothing: EC2's VolumeInUse still refuses a second holder of the volume, and resync
   * adopts a pair found on a member without a claim (the claim comes back).
   */

  async release(claim: ClaimIdentity): Promise<boolean> {
    const name = this.nameOf(claim.group, claim.nodeId);
    if (!isSameClaim(await this.get(claim.group, claim.nodeId), claim)) return false;
    // After a lost answer a retry finds the name gone and answers false; harmless, as the claim is gone either way.
    return this.call('DeleteParameter', `releasing claim ${name}`, () =>
      this.client.send(new DeleteParameterCommand({ Name: name })).then(() => true, answer('not-found', false)),
    );
  }

  private nameOf(group: string, nodeId: string): string {
    return `${this.prefix}/${encodeSegment(group)}/${encodeSegment(nodeId)}`;
  }

  /** The raw value of a parameter, or undefined when there is none. */
  private read(name: string): Promise<string | undefined> {
    return this.call('GetParameter', `reading claim ${name}`, () =>
      this.client.send(new GetParameterCommand({ Name: name })).then((out) => out.Parameter?.Value ?? '', answer('not-found', undefined)),
    );
  }

  /**
   * A parameter that is not a claim is an error, never "absent": treating it as absent
   * would hand out a pair somebody may hold.
   */
  private parse(name: string, value: string | undefined): Claim {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value ?? '');
    } catch (err) {
      throw corrupt(name, 'its value is not JSON', err);
    }
    const claim = asClaim(parsed);
    if (!claim) throw corrupt(name, 'its value is not a claim');
    const expected = this.nameOf(claim.group, claim.nodeId);
    if (expected !== name) throw corrupt(name, `it names a claim that belongs at ${expected}`);
    return claim;
  }

  /** SSM calls, paced, with retries; a failure reaches the caller classified, naming the call. */
  private call<T>(action: SsmAction, what: string, fn: () => Promise<T>): Promise<T> {
    return awsCall(what, () => this.pace(action).then(fn), this.policy);
  }
}

/**
 * One path segment from any non-empty string, injectively: percent-encoding with `_`
 * in place of `%` (so `_` itself becomes `_5F`), keeping only `A-Za-z0-9.-` as they are.
 * A `/` can therefore never add a level, and a segment of dots alone is encoded too so
 * it cannot read as `.` or `..`. Lone surrogates cannot be encoded and are refused.
 */
function encodeSegment(text: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch (err) {
    throw new PairkeeperError('PK_CLAIM_NAME', `claim name ${JSON.stringify(text)} is not valid Unicode`, { cause: err });
  }
  if (encoded === '') throw new PairkeeperError('PK_CLAIM_NAME', 'claim group and NodeID must not be empty');
  if (/^\.+$/.test(encoded)) encoded = encoded.replaceAll('.', '%2E');
  return encoded.replace(/[_!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replaceAll('%', '_');
}

/** The SDK's rejection handler that turns one kind of AWS failure into an answer. */
function answer<T>(kind: AwsErrorKind, value: T): (err: unknown) => T {
  return (err) => {
    if (isAwsKind(err, kind)) return value;
    throw err;
  };
}

/** The claim's own fields in a fixed order, so equal claims are equal values. */
function serialize(claim: Claim): string {
  const { group, nodeId, instanceId, state, since, updatedAt } = claim;
  return JSON.stringify({ group, nodeId, instanceId, state, since, updatedAt });
}

function asClaim(value: unknown): Claim | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { group, nodeId, instanceId, state, since, updatedAt } = value as Record<string, unknown>;
  if (!nonEmpty(group) || !nonEmpty(nodeId) || !nonEmpty(instanceId) || !nonEmpty(since) || !nonEmpty(updatedAt)) return undefined;
  if (state !== 'claimed' && state !== 'attached') return undefined;
  return { group, nodeId, instanceId, state, since, updatedAt };
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function corrupt(name: string, why: string, cause?: unknown): PairkeeperError {
  return new PairkeeperError('PK_CLAIM_CORRUPT', `SSM parameter ${name} is not a valid claim: ${why}; fix or delete it by hand`, { cause });
}

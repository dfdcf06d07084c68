import type { CallResources } from './call-recorder.ts';
import type { FakeAwsError } from './errors.ts';
import type { XmlObject } from './xml.ts';

/**
 * A fake AWS service speaking the Query protocol (form-encoded `Action=…&Version=…`,
 * XML answers). `style` picks the envelope: EC2's (`<requestId>` inside the response,
 * `<Response><Errors>` for errors) or the awsQuery one Auto Scaling uses
 * (`<XResult>` + `<ResponseMetadata>`, `<ErrorResponse>` for errors).
 */
export interface QueryService {
  kind: 'query';
  /** Counter and fault key prefix: `EC2`, `AutoScaling`. */
  name: string;
  /** The API version the SDK sends, which is how requests are routed. */
  version: string;
  xmlns: string;
  style: 'ec2' | 'awsquery';
  /** The service prefix of its IAM actions: `ec2`, `autoscaling`. */
  iamPrefix: string;
  /** What the call touches, as IAM would authorize it (see call-recorder.ts). */
  callResources(action: string, params: URLSearchParams): CallResources;
  handle(action: string, params: URLSearchParams): Promise<XmlObject> | XmlObject;
}

/** A fake AWS service speaking JSON (`X-Amz-Target: Prefix.Action`): 1.1 like SSM, or 1.0 like SQS. */
export interface JsonService {
  kind: 'json';
  name: string;
  targetPrefix: string;
  iamPrefix: string;
  callResources(action: string, body: Record<string, unknown>): CallResources;
  /** Default 1.1. */
  jsonVersion?: '1.0' | '1.1';
  handle(action: string, body: Record<string, unknown>): unknown;
  /** The error's `__type` and extra headers, for a service whose errors are not plain `{__type: code}` (SQS). */
  errorFields?(error: FakeAwsError): { type: string; headers: Record<string, string> };
}

export type FakeService = QueryService | JsonService;

import { FakeAwsError } from '../errors.ts';
import { ec2Errors } from './errors.ts';

/** The MaxResults rules of one Describe* action. */
export interface PagingRule {
  min: number;
  max: number;
  /** DescribeVolumes serves at most `max` per page instead of refusing a larger MaxResults. */
  clamp?: boolean;
  /** The ids parameter's name in EC2's messages (`volumeSet`, `instancesSet`…). */
  idsName: string;
}

export const PAGING: Readonly<Record<'volumes' | 'networkInterfaces' | 'instances', PagingRule>> = {
  volumes: { min: 5, max: 500, clamp: true, idsName: 'volumeSet' },
  networkInterfaces: { min: 5, max: 1000, idsName: 'networkInterfaceIdSet' },
  instances: { min: 5, max: 1000, idsName: 'instancesSet' },
};

/** A validated MaxResults/NextToken pair; validated before any lookup, as EC2 does. */
export interface PageRequest {
  limit: number | undefined;
  after: number;
}

export function readPageRequest(params: URLSearchParams, rule: PagingRule, idsGiven: boolean): PageRequest {
  const token = params.get('NextToken');
  return { limit: readMaxResults(params, rule, idsGiven), after: token ? decodeToken(token) : -1 };
}

/**
 * One page of `items` (in creation order). The token names the last item served, so a
 * page boundary survives resources being added or deleted between calls.
 */
export function paginate<T extends { seq: number }>(items: T[], request: PageRequest): { page: T[]; nextToken: string | undefined } {
  const rest = items.filter((item) => item.seq > request.after);
  const page = request.limit === undefined ? rest : rest.slice(0, request.limit);
  const more = page.length < rest.length;
  return { page, nextToken: more ? encodeToken(page[page.length - 1]!.seq) : undefined };
}

function readMaxResults(params: URLSearchParams, rule: PagingRule, idsGiven: boolean): number | undefined {
  const raw = params.get('MaxResults');
  if (raw === null) return undefined;
  if (idsGiven) throw ec2Errors.combination(`The parameter ${rule.idsName} cannot be used with the parameter maxResults`);
  const n = Number(raw);
  if (!Number.isInteger(n)) throw ec2Errors.invalidValue(`Value ( ${raw} ) for parameter maxResults is invalid.`);
  if (n < rule.min) {
    throw ec2Errors.invalidValue(`Value ( ${n} ) for parameter maxResults is invalid. Expecting a value greater than ${rule.min}.`);
  }
  if (n > rule.max) {
    if (rule.clamp) return rule.max;
    throw ec2Errors.invalidValue(`Value ( ${n} ) for parameter maxResults is invalid. Expecting a value less than ${rule.max}.`);
  }
  return n;
}

function encodeToken(seq: number): string {
  return Buffer.from(JSON.stringify({ after: seq })).toString('base64url');
}

function decodeToken(token: string): number {
  try {
    const { after } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'number') return after;
  } catch {
    // falls through to the same answer as a well-formed but foreign token
  }
  throw new FakeAwsError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.');
}

import { decodePageToken, pageAfter } from '../page-token.ts';
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

export const PAGING: Readonly<Record<'volumes' | 'networkInterfaces' | 'instances' | 'subnets', PagingRule>> = {
  volumes: { min: 5, max: 500, clamp: true, idsName: 'volumeSet' },
  networkInterfaces: { min: 5, max: 1000, idsName: 'networkInterfaceIdSet' },
  instances: { min: 5, max: 1000, idsName: 'instancesSet' },
  subnets: { min: 5, max: 1000, idsName: 'subnetIds' },
};

/** A validated MaxResults/NextToken pair; validated before any lookup, as EC2 does. */
export interface PageRequest {
  limit: number | undefined;
  /** The `seq` of the last item served; undefined for the first page. */
  after: number | undefined;
}

export function readPageRequest(params: URLSearchParams, rule: PagingRule, idsGiven: boolean): PageRequest {
  const limit = readMaxResults(params, rule, idsGiven);
  const token = params.get('NextToken');
  return { limit, after: token ? decodePageToken(token, 'number', ec2Errors.invalidPaginationToken) : undefined };
}

/** One page of `items` (in creation order, i.e. by `seq`): the token names the last one served. */
export function paginate<T extends { seq: number }>(items: T[], request: PageRequest): { page: T[]; nextToken: string | undefined } {
  return pageAfter(items, (item) => item.seq, request.after, request.limit);
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

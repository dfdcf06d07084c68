/**
 * The fake SNS API on the Query protocol (`Version=2010-03-31`, awsQuery XML), as
 * `pairkeeper setup` and the AWS CLI call it: CreateTopic (idempotent by name),
 * ListTopics, Subscribe (an HTTP(S) endpoint gets its SubscriptionConfirmation, and the
 * answer says `pending confirmation` until it is confirmed; a queue of the account is
 * confirmed at once, its policy left as it is; of the Attributes, RawMessageDelivery)
 * and ListSubscriptionsByTopic.
 * Errors are SNS's: `InvalidParameter` (400), `NotFound` (404).
 */
import { NO_RESOURCES } from '../call-recorder.ts';
import { FakeAwsError } from '../errors.ts';
import { decodePageToken, pageAfter } from '../page-token.ts';
import type { QueryService } from '../protocol.ts';
import { readMap } from '../query-params.ts';
import type { XmlObject } from '../xml.ts';
import type { FakeSns, SubscriptionAttributes } from './fake-sns.ts';

type Handler = (sns: FakeSns, params: URLSearchParams) => XmlObject;

/** SNS lists 100 topics or subscriptions per page. */
const PAGE = 100;

const handlers: Record<string, Handler> = {
  CreateTopic(sns, params) {
    return { TopicArn: sns.createTopic(required(params, 'Name')) };
  },

  ListTopics(sns, params) {
    const { page, nextToken } = pageAfter([...sns.listTopics()].sort(), (arn) => arn, after(params), PAGE);
    return { Topics: page.map((TopicArn) => ({ TopicArn })), NextToken: nextToken };
  },

  Subscribe(sns, params) {
    const sub = sns.subscribe(required(params, 'TopicArn'), required(params, 'Endpoint'), required(params, 'Protocol'), subscriptionAttributes(params));
    const returnArn = params.get('ReturnSubscriptionArn') === 'true';
    return { SubscriptionArn: sub.confirmed || returnArn ? sub.arn : 'pending confirmation' };
  },

  ListSubscriptionsByTopic(sns, params) {
    const topicArn = required(params, 'TopicArn');
    if (!sns.listTopics().includes(topicArn)) throw new FakeAwsError('NotFound', 'Topic does not exist', 404);
    const subs = sns
      .listSubscriptions()
      .filter((s) => s.topicArn === topicArn)
      .sort((a, b) => (a.arn < b.arn ? -1 : 1));
    const { page, nextToken } = pageAfter(subs, (s) => s.arn, after(params), PAGE);
    return {
      Subscriptions: page.map((s) => ({
        SubscriptionArn: s.confirmed ? s.arn : 'PendingConfirmation',
        Owner: s.owner,
        Protocol: s.protocol,
        Endpoint: s.endpoint,
        TopicArn: s.topicArn,
      })),
      NextToken: nextToken,
    };
  },
};

export function createSnsService(sns: FakeSns): QueryService {
  return {
    kind: 'query',
    name: 'SNS',
    version: '2010-03-31',
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    style: 'awsquery',
    iamPrefix: 'sns',
    // A topic call is authorized against the topic: CreateTopic the one it names, the others the TopicArn given.
    callResources(action, params) {
      const arn = action === 'CreateTopic' ? sns.topicArnOf(params.get('Name') ?? '') : params.get('TopicArn');
      return arn ? { resources: [{ arn, tags: {} }], requestKeys: {} } : NO_RESOURCES;
    },
    handle(action, params) {
      const handler = handlers[action];
      if (!handler) throw new FakeAwsError('InvalidAction', `fake SNS does not implement ${action}`);
      return handler(sns, params);
    },
  };
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    const member = name.charAt(0).toLowerCase() + name.slice(1);
    throw new FakeAwsError('ValidationError', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

/** Of Subscribe's Attributes the fake plays RawMessageDelivery; any other is refused rather than ignored. */
function subscriptionAttributes(params: URLSearchParams): SubscriptionAttributes {
  const attributes: SubscriptionAttributes = {};
  for (const [key, value] of readMap(params, 'Attributes')) {
    if (key !== 'RawMessageDelivery') throw new FakeAwsError('InvalidParameter', `Invalid parameter: Attributes Reason: the fake SNS does not support the attribute ${key}`);
    if (value !== 'true' && value !== 'false') {
      throw new FakeAwsError('InvalidParameter', `Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [${value}]. Must be true or false.`);
    }
    attributes.rawMessageDelivery = value === 'true';
  }
  return attributes;
}

function after(params: URLSearchParams): string | undefined {
  const token = params.get('NextToken');
  return token === null ? undefined : decodePageToken(token, 'string', () => new FakeAwsError('InvalidParameter', 'Invalid parameter: NextToken'));
}

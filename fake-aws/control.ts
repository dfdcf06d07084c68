import type { FakeAutoScaling } from './autoscaling/fake-autoscaling.ts';
import { REALISTIC_ATTACH_DURATIONS, type AttachDurations, type Ec2State } from './ec2/state.ts';
import type { FakeEventBus } from './eventbridge/event-bus.ts';
import { FakeAwsError } from './errors.ts';
import type { Faults } from './faults.ts';
import type { ExtraRoute } from './server.ts';
import type { DeliveryChaos, FakeSns } from './sns/fake-sns.ts';
import type { FakeSqs } from './sqs/fake-sqs.ts';
import type { FakeSsm } from './ssm/fake-ssm.ts';

/**
 * The control API under `/_fake/`: JSON in, JSON out, for the sandbox and for a person
 * with curl. Every route is a thin call into the functions tests use directly.
 *
 *   GET  /_fake/state                              instances, volumes, ENIs, groups, lifecycle actions, parameters
 *   GET  /_fake/calls          POST /_fake/calls/reset
 *   POST /_fake/faults {service, action, ...fault}  DELETE /_fake/faults
 *   POST /_fake/chaos {duplicateRate?, delayMs?, dropRate?}
 *   POST /_fake/topics {name}
 *   POST /_fake/subscriptions {topicArn, endpoint} | {topicArn, protocol: "sqs", endpoint: queueArn, rawMessageDelivery?}
 *   GET  /_fake/sns/deliveries
 *   POST /_fake/queues {name, attributes?}          GET /_fake/queues/:name (counts and messages)
 *   POST /_fake/rules {name, pattern, queueArn}     GET /_fake/events (everything put on the EventBridge bus)
 *   POST /_fake/ssm/throttling {scale?, higherThroughput?}  DELETE /_fake/ssm/throttling
 *   POST /_fake/subnets {availabilityZone, tags?}  POST /_fake/security-groups {name}
 *   POST /_fake/ec2/attach-durations {volumeMs?, networkInterfaceMs?, scale?}  DELETE /_fake/ec2/attach-durations
 *   POST /_fake/groups {name, availabilityZones, minSize?, maxSize?, desiredCapacity?, tags?, lifecycleHooks?, notifications?}
 *   POST /_fake/groups/:name/desired-capacity {desiredCapacity}
 *   POST /_fake/groups/:name/launch-error {count?, reason?}
 *   POST /_fake/groups/:name/lifecycle-hooks {name, transition, heartbeatTimeout?, defaultResult?, notificationTargetArn?, notificationMetadata?}
 *   POST /_fake/groups/:name/notifications {topicArn, types?}
 *   POST /_fake/groups/:name/warm-pool {minSize?, maxGroupPreparedCapacity?, poolState?, reuseOnScaleIn?}
 *   POST /_fake/instances/:id/terminate {decrementDesired?}
 */
export interface ControlTarget {
  faults: Faults;
  ec2: Ec2State;
  ssm: FakeSsm;
  autoScaling: FakeAutoScaling;
  sns: FakeSns;
  sqs: FakeSqs;
  events: FakeEventBus;
}

type Json = Record<string, unknown>;
type Handler = (t: ControlTarget, body: Json, params: string[]) => unknown;

const routes: [method: string, path: RegExp, handler: Handler][] = [
  ['GET', /^\/_fake\/state$/, (t) => state(t)],
  ['GET', /^\/_fake\/calls$/, (t) => t.faults.calls()],
  ['POST', /^\/_fake\/calls\/reset$/, (t) => t.faults.resetCounts()],
  [
    'POST',
    /^\/_fake\/faults$/,
    (t, body) => {
      const { service, action, ...fault } = body;
      t.faults.set(text(service, 'service'), text(action, 'action'), fault);
    },
  ],
  ['DELETE', /^\/_fake\/faults$/, (t) => t.faults.clear()],
  [
    'POST',
    /^\/_fake\/chaos$/,
    (t, body) => {
      t.sns.chaos = { ...t.sns.chaos, ...(body as Partial<DeliveryChaos>) };
      return t.sns.chaos;
    },
  ],
  ['POST', /^\/_fake\/topics$/, (t, body) => ({ topicArn: t.sns.createTopic(text(body.name, 'name')) })],
  [
    'POST',
    /^\/_fake\/subscriptions$/,
    (t, body) => {
      const [topicArn, endpoint] = [text(body.topicArn, 'topicArn'), text(body.endpoint, 'endpoint')];
      const sub =
        body.protocol === 'sqs'
          ? t.sns.subscribeQueue(topicArn, endpoint, { rawMessageDelivery: body.rawMessageDelivery === true })
          : t.sns.subscribe(topicArn, endpoint);
      return { subscriptionArn: sub.arn };
    },
  ],
  [
    'POST',
    /^\/_fake\/queues$/,
    (t, body) => {
      const queue = t.sqs.createQueue(text(body.name, 'name'), (body.attributes ?? {}) as Record<string, string>);
      return { queueUrl: t.sqs.urlOf(queue), queueArn: queue.arn };
    },
  ],
  [
    'GET',
    /^\/_fake\/queues\/([^/]+)$/,
    (t, _body, [name]) => {
      const queue = t.sqs.queue(name!);
      if (!queue) throw new FakeAwsError('NotFound', `no queue ${name!}`, 404);
      return { queueArn: queue.arn, attributes: queue.attributes, counts: t.sqs.counts(queue), messages: [...queue.messages.values()] };
    },
  ],
  [
    'POST',
    /^\/_fake\/rules$/,
    (t, body) => t.events.putRule({ name: text(body.name, 'name'), pattern: body.pattern ?? {}, queueArn: text(body.queueArn, 'queueArn') }),
  ],
  ['GET', /^\/_fake\/events$/, (t) => t.events.events],
  ['GET', /^\/_fake\/sns\/deliveries$/, (t) => t.sns.deliveries],
  [
    'POST',
    /^\/_fake\/ssm\/throttling$/,
    (t, body) => t.ssm.throttling.enable({ ...(typeof body.scale === 'number' ? { scale: body.scale } : {}), higherThroughput: body.higherThroughput === true }),
  ],
  ['DELETE', /^\/_fake\/ssm\/throttling$/, (t) => t.ssm.throttling.disable()],
  [
    'POST',
    /^\/_fake\/subnets$/,
    (t, body) => t.ec2.createSubnet({ availabilityZone: text(body.availabilityZone, 'availabilityZone'), tags: (body.tags ?? {}) as Record<string, string> }),
  ],
  ['POST', /^\/_fake\/security-groups$/, (t, body) => t.ec2.createSecurityGroup(text(body.name, 'name'))],
  [
    'POST',
    /^\/_fake\/ec2\/attach-durations$/,
    (t, body) => (t.ec2.timing.attachDurations = { ...REALISTIC_ATTACH_DURATIONS, ...(body as Partial<AttachDurations>) }),
  ],
  ['DELETE', /^\/_fake\/ec2\/attach-durations$/, (t) => void (t.ec2.timing.attachDurations = undefined)],
  [
    'POST',
    /^\/_fake\/groups$/,
    (t, body) => t.autoScaling.createGroup(body as unknown as Parameters<FakeAutoScaling['createGroup']>[0]),
  ],
  [
    'POST',
    /^\/_fake\/groups\/([^/]+)\/desired-capacity$/,
    (t, body, [name]) => t.autoScaling.setDesiredCapacity(name!, Number(body.desiredCapacity)),
  ],
  [
    'POST',
    /^\/_fake\/groups\/([^/]+)\/launch-error$/,
    (t, body, [name]) =>
      t.autoScaling.failNextLaunch(name!, typeof body.count === 'number' ? body.count : 1, typeof body.reason === 'string' ? body.reason : undefined),
  ],
  [
    'POST',
    /^\/_fake\/groups\/([^/]+)\/lifecycle-hooks$/,
    (t, body, [name]) => t.autoScaling.putLifecycleHook(name!, body as unknown as Parameters<FakeAutoScaling['putLifecycleHook']>[1]),
  ],
  [
    'POST',
    /^\/_fake\/groups\/([^/]+)\/notifications$/,
    (t, body, [name]) =>
      t.autoScaling.putNotificationConfiguration(name!, text(body.topicArn, 'topicArn'), Array.isArray(body.types) ? (body.types as string[]) : undefined),
  ],
  [
    'POST',
    /^\/_fake\/groups\/([^/]+)\/warm-pool$/,
    (t, body, [name]) => t.autoScaling.putWarmPool(name!, body),
  ],
  [
    'POST',
    /^\/_fake\/instances\/([^/]+)\/terminate$/,
    (t, body, [id]) => t.autoScaling.terminateInstance(id!, body.decrementDesired === true).activity,
  ],
];

export function createControlRoute(target: ControlTarget): ExtraRoute {
  return (req, res, rawBody) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/_fake/')) return false;
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value ?? { ok: true }, plain, 2));
    };
    for (const [method, pattern, handler] of routes) {
      const match = pattern.exec(path);
      if (!match || req.method !== method) continue;
      try {
        const body = rawBody ? (JSON.parse(rawBody) as Json) : {};
        send(200, handler(target, body, match.slice(1).map(decodeURIComponent)));
      } catch (err) {
        if (err instanceof FakeAwsError) send(err.status, { error: err.code, message: err.message });
        else send(400, { error: 'BadRequest', message: String(err) });
      }
      return true;
    }
    send(404, { error: 'NotFound', message: `no control route ${req.method ?? ''} ${path}` });
    return true;
  };
}

function state(t: ControlTarget): unknown {
  return {
    instances: t.ec2.instances(),
    volumes: t.ec2.volumes(),
    networkInterfaces: t.ec2.networkInterfaces(),
    subnets: t.ec2.subnets(),
    groups: t.autoScaling.groups(),
    lifecycleActions: t.autoScaling.actions.list().map((a) => ({
      token: a.token,
      groupName: a.groupName,
      hookName: a.hook.name,
      instanceId: a.instanceId,
      deadline: new Date(a.deadline),
    })),
    parameters: t.ssm.parameters.all(),
  };
}

/** The fakes keep Maps and Sets; JSON shows them as objects and arrays. */
function plain(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new FakeAwsError('BadRequest', `${name} must be a non-empty string`);
  return value;
}

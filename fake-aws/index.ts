import { FakeAutoScaling, type AutoScalingTiming } from './autoscaling/fake-autoscaling.ts';
import { createAutoScalingService } from './autoscaling/service.ts';
import { createEc2Service } from './ec2/service.ts';
import { Ec2State, type Ec2Timing } from './ec2/state.ts';
import { Arns, CallRecorder } from './call-recorder.ts';
import { createControlRoute } from './control.ts';
import { instanceStateChange } from './eventbridge/ec2-events.ts';
import { FakeEventBus } from './eventbridge/event-bus.ts';
import { Faults } from './faults.ts';
import { startHttpServer, type FakeAwsHttpServer } from './server.ts';
import { FakeSns } from './sns/fake-sns.ts';
import { SnsHttpsEndpoint } from './sns/https-endpoint.ts';
import { createSnsService } from './sns/service.ts';
import { SnsSigner } from './sns/signer.ts';
import { FakeSqs, type SqsTiming } from './sqs/fake-sqs.ts';
import { createSqsService } from './sqs/service.ts';
import { FakeSsm } from './ssm/fake-ssm.ts';
import { createSsmService } from './ssm/service.ts';
import { testTls } from './tls/index.ts';

/**
 * A local AWS for tests, benchmarks and the sandbox: EC2, SSM, Auto Scaling, SQS and
 * the SNS API on one HTTP port (routed by API version / X-Amz-Target), SNS's HTTPS side
 * (signing certificate, SubscribeURL) on another, and an EventBridge bus that
 * Auto Scaling and EC2 put their events on (rules copy them into SQS queues).
 */
/** Any credentials do for the fake; these are the ones everything that talks to it uses. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };

export interface FakeAwsOptions {
  region?: string;
  accountId?: string;
  /** Seeds fault injection, delivery chaos and attach jitter. */
  seed?: number;
  port?: number;
  snsPort?: number;
  /** EC2's transition delays (attach, launch, terminate, release); short by default, AWS-like attaches with `attachDurations`. */
  ec2Timing?: Partial<Ec2Timing>;
  /** Auto Scaling's hook clock, EC2 polling and retry delay; hook seconds are real seconds by default. */
  autoScalingTiming?: Partial<AutoScalingTiming>;
  /** Record every call as IAM would see it (aws.calls), to evaluate a policy against. */
  recordCalls?: boolean;
  /** SQS's clock (visibility, wait, delay seconds); real seconds by default. */
  sqsTiming?: Partial<SqsTiming>;
}

export interface FakeAws {
  url: string;
  region: string;
  accountId: string;
  faults: Faults;
  ec2: Ec2State;
  ssm: FakeSsm;
  autoScaling: FakeAutoScaling;
  sns: FakeSns;
  sqs: FakeSqs;
  events: FakeEventBus;
  snsEndpoint: SnsHttpsEndpoint;
  signer: SnsSigner;
  /** The calls served, as IAM would authorize them; empty unless started with recordCalls. */
  calls: CallRecorder;
  /** Environment that points the AWS SDK at this fake. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const faults = new Faults(options.seed ?? 1);

  const snsEndpoint = await new SnsHttpsEndpoint({
    tlsCertPem: testTls.localhostCert,
    tlsKeyPem: testTls.localhostKey,
    signingCertPem: testTls.snsSigningCert,
  }).start(options.snsPort);
  const signer = new SnsSigner({ privateKeyPem: testTls.snsSigningKey, certUrl: snsEndpoint.certUrl });
  const sqs = new FakeSqs({ region, accountId, timing: options.sqsTiming });
  const sns = new FakeSns({ endpoint: snsEndpoint, signer, region, accountId, sqs });
  sns.reseed(options.seed ?? 1);

  const events = new FakeEventBus({ region, accountId, sqs });
  const ec2 = new Ec2State({ accountId, region, timing: options.ec2Timing, seed: options.seed ?? 1 });
  ec2.onStateChange = (instance) => events.put(instanceStateChange(instance, region, accountId));
  const ssm = new FakeSsm({ region, accountId, instanceLookup: (id) => ec2.instance(id) });
  const autoScaling = new FakeAutoScaling({ ec2, sns, sqs, events, region, accountId, timing: options.autoScalingTiming });

  const arns = new Arns(region, accountId);
  const calls = new CallRecorder();
  calls.enabled = options.recordCalls ?? false;
  const http: FakeAwsHttpServer = await startHttpServer({
    services: [createEc2Service(ec2, arns), createSsmService(ssm, ec2, arns), createAutoScalingService(autoScaling), createSqsService(sqs), createSnsService(sns)],
    recorder: calls,
    extraRoutes: [createControlRoute({ faults, ec2, ssm, autoScaling, sns, sqs, events })],
    faults,
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  sqs.endpoint = http.url;

  return {
    url: http.url,
    region,
    accountId,
    faults,
    ec2,
    ssm,
    autoScaling,
    sns,
    sqs,
    events,
    snsEndpoint,
    signer,
    calls,
    env: () => ({
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_EC2: http.url,
      AWS_ENDPOINT_URL_SSM: http.url,
      AWS_ENDPOINT_URL_AUTO_SCALING: http.url,
      AWS_ENDPOINT_URL_SQS: http.url,
      AWS_ENDPOINT_URL_SNS: http.url,
    }),
    close: async () => {
      await sns.idle();
      sqs.close();
      await Promise.all([http.close(), snsEndpoint.close()]);
    },
  };
}

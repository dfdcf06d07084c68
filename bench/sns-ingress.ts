import autocannon from 'autocannon';
import { SnsHttpsEndpoint } from '../fake-aws/sns/https-endpoint.ts';
import { SnsSigner } from '../fake-aws/sns/signer.ts';
import { testTls } from '../fake-aws/tls/index.ts';
import { spawnTarget } from './spawn-target.ts';

/**
 * Signed-notification throughput and p99 latency through POST /sns (certificate
 * cached), side by side with the bound: a bare node:http handler doing only
 * JSON.parse + RSA verify on the same payloads, same load, same run. Every request
 * carries a distinct, validly signed message, so nothing is answered from the
 * duplicate check. Each side is measured twice, alternating, and its better run kept.
 */
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:bench';
const LAUNCH = JSON.stringify({
  Progress: 50, AccountId: '123456789012', Description: 'Launching a new EC2 instance: i-0c55bedeb30ef1f08',
  AutoScalingGroupName: 'etcd', EC2InstanceId: 'i-0c55bedeb30ef1f08', Event: 'autoscaling:EC2_INSTANCE_LAUNCH',
  Details: { 'Subnet ID': 'subnet-a1b2c3d4', 'Availability Zone': 'us-east-1a' }, StatusCode: 'InProgress', Service: 'AWS Auto Scaling',
});

interface Figures {
  rps: number;
  p99: number;
  non2xx: number;
}

async function load(port: number, bodies: string[]): Promise<Figures> {
  let next = 0;
  let lastResponse = 0;
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 16,
    amount: bodies.length,
    requests: [
      {
        method: 'POST',
        path: '/sns',
        headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
        onResponse: () => {
          lastResponse = performance.now();
        },
      },
    ],
  });
  // autocannon notices that `amount` is reached only on its 1 s tick, so its own
  // duration (and any wall clock around it) is rounded up to whole seconds: time to
  // the last response instead.
  const seconds = (lastResponse - started) / 1000;
  return { rps: result.requests.total / seconds, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

export async function benchSnsIngress(options: { messages: number }): Promise<void> {
  const endpoint = await new SnsHttpsEndpoint({ tlsCertPem: testTls.localhostCert, tlsKeyPem: testTls.localhostKey, signingCertPem: testTls.snsSigningCert }).start();
  const signer = new SnsSigner({ privateKeyPem: testTls.snsSigningKey, certUrl: endpoint.certUrl });
  const sign = (n: number) => Array.from({ length: n }, () => JSON.stringify(signer.notification({ topicArn: TOPIC, message: LAUNCH, version: '2' })));
  const script = new URL('./sns-target.ts', import.meta.url);
  const pairkeeper = await spawnTarget(script, ['pairkeeper', TOPIC], { NODE_EXTRA_CA_CERTS: testTls.caPath });
  const bare = await spawnTarget(script, ['bare', TOPIC]);
  try {
    await load(pairkeeper.port, sign(200)); // warm-up: fetches the certificate once, JIT
    await load(bare.port, sign(200));
    const best = { pairkeeper: undefined as Figures | undefined, bare: undefined as Figures | undefined };
    for (let round = 0; round < 2; round++) {
      const bodies = sign(options.messages); // the same messages for both sides; each side sees each once per round
      for (const [name, target] of [['pairkeeper', pairkeeper], ['bare', bare]] as const) {
        const figures = await load(target.port, bodies);
        if (!best[name] || figures.rps > best[name].rps) best[name] = figures;
      }
    }
    const p = best.pairkeeper!;
    const b = best.bare!;
    console.log(`\nSNS ingress: ${options.messages} distinct signed notifications (SignatureVersion 2), 16 connections, loopback, certificate cached`);
    console.log('                               req/s   p99 ms   non-2xx');
    console.log(`  pairkeeper POST /sns      ${p.rps.toFixed(0).padStart(8)} ${p.p99.toFixed(1).padStart(8)} ${String(p.non2xx).padStart(9)}`);
    console.log(`  bound: http+parse+verify  ${b.rps.toFixed(0).padStart(8)} ${b.p99.toFixed(1).padStart(8)} ${String(b.non2xx).padStart(9)}`);
    console.log(`  throughput ratio: ${((100 * p.rps) / b.rps).toFixed(1)}% of the bound (target >= 80%)`);
  } finally {
    await Promise.all([pairkeeper.stop(), bare.stop(), endpoint.close()]);
  }
}

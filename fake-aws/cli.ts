/**
 * Runs the local AWS as a process of its own:
 *   node fake-aws/cli.ts [--port 4566] [--sns-port 4567] [--seed 1]
 * Prints the environment that points the AWS SDK (and the AWS CLI) at it; drive it
 * with the control API under /_fake/ (see control.ts). Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startFakeAws } from './index.ts';
import { testTls } from './tls/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FAKE_AWS_PORT ?? '4566' },
    'sns-port': { type: 'string', default: process.env.FAKE_SNS_PORT ?? '4567' },
    seed: { type: 'string', default: '1' },
  },
});

const aws = await startFakeAws({ port: Number(values.port), snsPort: Number(values['sns-port']), seed: Number(values.seed) });
console.log(`local AWS on ${aws.url} (EC2, SSM, Auto Scaling, SQS, SNS API, control API /_fake/), SNS signing and confirmation on ${aws.snsEndpoint.url}`);
console.log('environment for SDK clients:');
for (const [k, v] of Object.entries({ ...aws.env(), NODE_EXTRA_CA_CERTS: testTls.caPath })) console.log(`  export ${k}=${v}`);

const stop = () => void aws.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

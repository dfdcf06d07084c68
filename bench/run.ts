/**
 * `npm run bench`: each section prints its figures beside what they compare against,
 * measured in the same run. BENCH_QUICK=1 runs smaller loads (a smoke check).
 */
import { benchBurst } from './burst.ts';
import { benchReplicas } from './replicas.ts';
import { benchSnsIngress } from './sns-ingress.ts';

const quick = process.env.BENCH_QUICK === '1';
await benchSnsIngress({ messages: quick ? 1000 : 8000 });
await benchReplicas({ launches: quick ? 24 : 100 });
await benchBurst({ instances: quick ? 60 : 500, boundSeconds: quick ? 2 : 7.5 });

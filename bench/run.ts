/**
 * `npm run bench`: each section prints its figures beside what they compare against,
 * measured in the same run. BENCH_QUICK=1 runs smaller loads (a smoke check).
 */
import { benchSnsIngress } from './sns-ingress.ts';

const quick = process.env.BENCH_QUICK === '1';
await benchSnsIngress({ messages: quick ? 1000 : 8000 });

import { runConcurrencyConformance } from '../store/testing/index.ts';
import { connectRedisLimits } from './redis-limits.ts';
import { openTestRedis, uniqueRedisPrefix } from './testing/index.ts';

const server = await openTestRedis();
const url = 'url' in server ? server.url : '';

// Two clients on one server and prefix: two connections, as two processes would hold.
runConcurrencyConformance(
  'redis',
  'skipReason' in server
    ? { skip: server.skipReason }
    : async () => {
        const prefix = uniqueRedisPrefix('slots');
        const first = await connectRedisLimits({ url, prefix });
        const second = await connectRedisLimits({ url, prefix });
        return { first: first.concurrency, second: second.concurrency, dispose: async () => void (await Promise.all([first.close(), second.close()])) };
      },
);

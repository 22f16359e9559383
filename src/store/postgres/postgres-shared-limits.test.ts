import { runBreakerConformance, runRateLimitConformance } from '../conformance/index.ts';
import { PostgresStore } from './index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';

// Two stores on one schema: two pools, as two processes would hold.
async function twoStores(): Promise<{ first: PostgresStore; second: PostgresStore; dispose: () => Promise<void> }> {
  const schema = uniqueSchemaName('keel_limits');
  const first = await PostgresStore.open({ url, schema });
  const second = await PostgresStore.open({ url, schema });
  return {
    first,
    second,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      await dropSchema(url, schema);
    },
  };
}

runRateLimitConformance(
  'postgres',
  'skipReason' in database
    ? { skip: database.skipReason }
    : async () => {
        const { first, second, dispose } = await twoStores();
        return { first: first.rateLimits, second: second.rateLimits, dispose };
      },
);

runBreakerConformance(
  'postgres',
  'skipReason' in database
    ? { skip: database.skipReason }
    : async () => {
        const { first, second, dispose } = await twoStores();
        return { first: first.breakers, second: second.breakers, dispose };
      },
);

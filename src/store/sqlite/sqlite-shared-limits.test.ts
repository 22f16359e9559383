import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBreakerConformance, runRateLimitConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';

// Two stores on one file: two connections, as two processes would hold.
async function twoStores(): Promise<{ first: SqliteStore; second: SqliteStore; dispose: () => Promise<void> }> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-limits-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path });
  const second = SqliteStore.open({ path });
  return {
    first,
    second,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

runRateLimitConformance('sqlite', async () => {
  const { first, second, dispose } = await twoStores();
  return { first: first.rateLimits, second: second.rateLimits, dispose };
});

runBreakerConformance('sqlite', async () => {
  const { first, second, dispose } = await twoStores();
  return { first: first.breakers, second: second.breakers, dispose };
});

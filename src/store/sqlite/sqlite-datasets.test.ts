import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDatasetConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';

// Two stores on one file: two connections, as `keel dataset create` and `keel eval run` would hold.
runDatasetConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-datasets-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path });
  const second = SqliteStore.open({ path });
  return {
    first: first.datasets,
    second: second.datasets,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

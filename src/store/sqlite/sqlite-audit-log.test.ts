import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAuditLogConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';

// Two stores on one file: two connections, as two processes would hold.
runAuditLogConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-audit-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path, durability: 'normal' });
  const second = SqliteStore.open({ path, durability: 'normal' });
  return {
    first,
    second,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

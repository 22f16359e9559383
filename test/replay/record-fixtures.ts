/**
 * Records the demo's journals as replay fixtures: `node test/replay/record-fixtures.ts`.
 * Re-record only on purpose (a new task version): the point of the fixtures is that old runs
 * keep replaying byte for byte after the code changes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaymentsLedger, runDemo } from '../../src/demo/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-fixtures-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db') });
const ledger = new PaymentsLedger(join(folder, 'payments.db'));
const runs = await runDemo({ store, ledger, model: 'sim:default', seed: 7 });
for (const [index, run] of runs.entries()) {
  const records = await store.readJournal(run.id);
  const version = (records[0]?.data as { taskVersion?: string } | undefined)?.taskVersion ?? 'unknown';
  // Named by task version: fixtures of older versions stay, so their runs keep replaying.
  writeFileSync(join(import.meta.dirname, 'fixtures', `v${version}-demo-${index + 1}-${run.status}.json`), `${JSON.stringify({ recordedWith: 'keel 0.1.0', records }, null, 1)}\n`);
}
ledger.close();
await store.close();
rmSync(folder, { recursive: true, force: true });
process.stdout.write(`recorded ${runs.length} journals\n`);

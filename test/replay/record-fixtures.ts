/**
 * Records the demo's journals as replay fixtures: `node --conditions=keel-source test/replay/record-fixtures.ts`.
 * Re-record only on purpose (a new task version): the point of the fixtures is that old runs
 * keep replaying byte for byte after the code changes. It records the current version, the
 * example's agent (examples/support-refund); older versions' fixtures stay as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaymentsLedger, runDemo, supportRefundAgent } from '../../examples/support-refund/index.ts';
import { createKeel } from '../../src/agent/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-fixtures-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db') });
const payments = new PaymentsLedger(join(folder, 'payments.db'));
const keel = await createKeel({ store, agents: [supportRefundAgent({ payments })] });
const runs = await runDemo(keel);
for (const [index, run] of runs.entries()) {
  const records = await store.readJournal(run.id);
  const version = (records[0]?.data as { taskVersion?: string } | undefined)?.taskVersion ?? 'unknown';
  // Named by task version: fixtures of older versions stay, so their runs keep replaying.
  writeFileSync(join(import.meta.dirname, 'fixtures', `v${version}-demo-${index + 1}-${run.status}.json`), `${JSON.stringify({ recordedWith: 'keel 0.1.0', records }, null, 1)}\n`);
}
await keel.close();
payments.close();
await store.close();
rmSync(folder, { recursive: true, force: true });
process.stdout.write(`recorded ${runs.length} journals\n`);

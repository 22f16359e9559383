/**
 * What sealing a labelled field costs per journaled event, side by side with the same event
 * unsealed (rounds interleaved, so drift of the machine hits both alike):
 *   - baseline: sealEvent of a ~350-byte tool-result step-end (canonical JSON + sha256);
 *   - sealed: the run sealer's AES-256-GCM envelope of its value under one subject's key (HKDF data
 *     key, fresh salt and nonce), then the same sealEvent;
 *   - opened: what a reader adds per event: the keyring opening the envelope (keys cached).
 */
import { genesisHash, sealEvent } from '../src/journal/index.ts';
import { RunSealer, SubjectKeyring } from '../src/redaction/index.ts';
import type { JsonValue } from '../src/spec/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';

const payload = {
  step: 2,
  name: 'lookup_customer',
  kind: 'tool-call' as const,
  epoch: 0,
  durationMs: 3,
  outcome: { ok: true as const, value: { found: true, customer: { id: 'C-1001', name: 'Maya Chen', email: 'maya.chen@mail.example', address: '12 Harbour Street, Leith', notes: 'x'.repeat(120) } } },
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export async function benchRedaction(options: { events?: number; rounds?: number } = {}): Promise<Measure[]> {
  const { events = 5_000, rounds = 7 } = options;
  const store = SqliteStore.open({ path: ':memory:', durability: 'normal' });
  try {
    const sealer = new RunSealer(new SubjectKeyring(store.subjectKeys));
    await sealer.include(['C-1001']);
    const reader = new SubjectKeyring(store.subjectKeys);
    const position = { runId: 'bench', seq: 2, prevHash: genesisHash };
    const sealedData = sealer.seal('step-end', payload);
    await reader.open(sealedData as unknown as JsonValue);
    const baseline: number[] = [];
    const sealed: number[] = [];
    const opened: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      let began = performance.now();
      for (let index = 0; index < events; index += 1) sealEvent(position, 'step-end', payload);
      baseline.push(((performance.now() - began) * 1000) / events);
      began = performance.now();
      for (let index = 0; index < events; index += 1) sealEvent(position, 'step-end', sealer.seal('step-end', payload));
      sealed.push(((performance.now() - began) * 1000) / events);
      began = performance.now();
      for (let index = 0; index < events; index += 1) await reader.open(sealedData as unknown as JsonValue);
      opened.push(((performance.now() - began) * 1000) / events);
    }
    const [plain, withSeal, open] = [median(baseline), median(sealed), median(opened)];
    const bytes = { plain: JSON.stringify(payload).length, sealed: JSON.stringify(sealedData).length };
    process.stdout.write(
      `  redaction: seal event ${plain.toFixed(1)} µs plain, ${withSeal.toFixed(1)} µs with one sealed field (+${(withSeal - plain).toFixed(1)} µs, ×${(withSeal / plain).toFixed(2)}); open ${open.toFixed(1)} µs; ${bytes.plain} → ${bytes.sealed} bytes\n`,
    );
    return [
      { name: 'redaction: seal one field', value: Math.round((withSeal - plain) * 10) / 10, unit: 'µs/event', detail: `added to sealEvent of a ~${bytes.plain}-byte tool result (${plain.toFixed(1)} µs → ${withSeal.toFixed(1)} µs); stored size ${bytes.sealed} bytes` },
      { name: 'redaction: open one field', value: Math.round(open * 10) / 10, unit: 'µs/event', detail: 'a reader opening the sealed value, subject key cached' },
    ];
  } finally {
    await store.close();
  }
}

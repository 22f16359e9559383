/**
 * What a virtual key costs a gateway request, each figure beside its baseline measured in the same
 * process, rounds interleaved: the baseline is the same gateway code on its own SQLite file with no
 * key in its store (identity from headers); the keyed gateway looks the key up by hash on every
 * request, and for a chat completion also reserves the key's daily budget and counts its requests
 * per minute. Requests go in process (`gateway.request`), so the HTTP server is not measured.
 * Run alone: node bench/gateway-keys-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gateway } from '../src/gateway/index.ts';
import { createGateway, createVirtualKey } from '../src/gateway/index.ts';
import type { Measure } from './journal-bench.ts';

const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;
const round2 = (value: number): number => Math.round(value * 100) / 100;

const chat = JSON.stringify({ model: 'sim:default', max_tokens: 32, messages: [{ role: 'user', content: 'Where is my order A-1001?' }] });

/** µs per request over `count` sequential requests. */
async function microsPerRequest(gateway: Gateway, path: string, headers: Record<string, string>, count: number, body?: string): Promise<number> {
  const began = performance.now();
  for (let index = 0; index < count; index += 1) {
    const response = await gateway.request(path, body === undefined ? { headers } : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    if (response.status !== 200) throw new Error(`bench request ${path} answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
  return ((performance.now() - began) * 1000) / count;
}

export async function benchGatewayKeys(): Promise<Measure[]> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-keys-'));
  const anonymous = await createGateway({ environment: {}, database: join(folder, 'anonymous.db') });
  const keyed = await createGateway({ environment: {}, database: join(folder, 'keyed.db') });
  try {
    const keys = keyed.keel.store.keys;
    if (keys === undefined) throw new Error('the store keeps no keys');
    const { secret } = await createVirtualKey(keys, { tenant: 'acme', principal: 'bench', settings: { models: [], budget: { micros: 1_000_000_000, per: 'day' }, rpm: 1_000_000 } });
    const withKey = { authorization: `Bearer ${secret}` };
    const withHeaders = { 'keel-tenant': 'acme', 'keel-principal': 'bench' };
    const cases = [
      { name: 'GET /v1/models', path: '/v1/models', count: 400, body: undefined },
      { name: 'POST /v1/chat/completions (sim:default, one journaled run)', path: '/v1/chat/completions', count: 60, body: chat },
    ];
    const measures: Measure[] = [];
    for (const item of cases) {
      const baseline: number[] = [];
      const candidate: number[] = [];
      for (let round = 0; round < 6; round += 1) {
        const base = await microsPerRequest(anonymous, item.path, withHeaders, item.count, item.body);
        const key = await microsPerRequest(keyed, item.path, withKey, item.count, item.body);
        // The first round warms up.
        if (round > 0) {
          baseline.push(base);
          candidate.push(key);
        }
      }
      const ratio = round2(median(candidate) / median(baseline));
      const detail = `keyed ${Math.round(median(candidate))} µs vs header identity ${Math.round(median(baseline))} µs per request, sequential, median of 5 interleaved rounds of ${item.count}`;
      process.stdout.write(`  gateway keys: ${item.name}: ${ratio}x  (${detail})\n`);
      measures.push({ name: `gateway keys: ${item.name}, keyed / header identity`, value: ratio, unit: 'x', detail });
    }
    return measures;
  } finally {
    await anonymous.close();
    await keyed.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchGatewayKeys();

/**
 * `budgetReservationExpiryMs`: how long a budget reservation its process never settled stays held.
 * The setting is checked strictly (whole milliseconds, one second to one day), and a deployment's
 * model calls reserve with it in the store's book; without it they reserve for the 5-minute default.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel, KeelError, parseConfig } from 'keel';
import type { KeelConfig, StoreV1 } from 'keel';
import { SqliteStore } from '../../src/store/index.ts';
import { withReserveHook } from './reserve-hook.ts';
import { budgetTenant, spendAgent, spendConfig } from './spend-agent.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-reservation-expiry-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function configWith(value: unknown): unknown {
  return { ...spendConfig, budgetReservationExpiryMs: value };
}

test('budgetReservationExpiryMs accepts whole milliseconds from one second to one day, and refuses anything else in one line', () => {
  assert.equal(parseConfig(configWith(60_000), 'keel.config.json').budgetReservationExpiryMs, 60_000);
  const refusals: [unknown, string][] = [
    [1_500.5, 'keel.config.json: budgetReservationExpiryMs: must be an integer (ms), got 1500.5'],
    [500, 'keel.config.json: budgetReservationExpiryMs: must be ≥ 1000 (ms), got 500'],
    [2 * 86_400_000, 'keel.config.json: budgetReservationExpiryMs: must be ≤ 86400000 (ms, one day), got 172800000'],
  ];
  for (const [value, message] of refusals) {
    assert.throws(
      () => parseConfig(configWith(value), 'keel.config.json'),
      (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && error.message === message && !error.message.includes('\n'),
      `value ${String(value)}`,
    );
  }
  assert.throws(() => parseConfig(configWith('5m'), 'keel.config.json'), (error: unknown) => error instanceof KeelError && /budgetReservationExpiryMs/.test(error.message));
});

/** The store as given, with its budget book noting each reservation's requested lifetime. */
function notingExpiries(store: SqliteStore, expiries: number[]): StoreV1 {
  return withReserveHook(store, (request, next) => {
    expiries.push(request.expiresInMs);
    return next();
  });
}

for (const [setting, expected] of [
  [undefined, 5 * 60_000],
  [15_000, 15_000],
] as const) {
  test(`model calls reserve for ${expected} ms when budgetReservationExpiryMs is ${String(setting)}`, async () => {
    const store = SqliteStore.open({ path: join(folder, `expiry-${String(setting)}.db`) });
    const expiries: number[] = [];
    const config: KeelConfig = setting === undefined ? spendConfig : { ...spendConfig, budgetReservationExpiryMs: setting };
    const keel = await createKeel({ store: notingExpiries(store, expiries), config, agents: [spendAgent] });
    try {
      const outcome = await keel.run('spend-agent', { message: 'note 1' }, { principal: 'ada', tenant: budgetTenant });
      assert.equal(outcome.status, 'ok', outcome.reason);
      assert.ok(expiries.length > 0, 'the call reserved in the store’s book');
      assert.deepEqual(new Set(expiries), new Set([expected]));
    } finally {
      await keel.close();
      await store.close();
    }
  });
}

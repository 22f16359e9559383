import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { GatewayOptions } from './gateway.ts';
import { createGateway } from './gateway.ts';
import { listenGateway } from './listen-gateway.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-settings-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('a numeric setting that is not a whole number in range is one usage-invalid naming it, and opens no database', async () => {
  const database = join(folder, 'never.db');
  const cases: [Partial<GatewayOptions>, RegExp][] = [
    [{ writeStallMs: 0 }, /^the gateway's writeStallMs must be a whole number of ms from 1 to 2147483647; got 0$/],
    [{ writeStallMs: 1.5 }, /writeStallMs .* got 1\.5$/],
    [{ writeStallMs: Number.NaN }, /writeStallMs .* got NaN$/],
    [{ writeStallMs: 2 ** 31 }, /writeStallMs .* got 2147483648$/],
    [{ writeStallMs: '30s' as unknown as number }, /writeStallMs .* got "30s"$/],
    [{ drainMs: -1 }, /drainMs must be a whole number of ms from 0 to/],
    [{ runIdleMs: 0 }, /runIdleMs must be a whole number of ms from 1 to/],
    [{ maxBodyBytes: 0 }, /maxBodyBytes must be a whole number of bytes from 1 to/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(createGateway({ database, environment: {}, ...options }), (error: unknown) => error instanceof KeelError && error.code === 'usage-invalid' && message.test(error.message));
  }
  assert.equal(existsSync(database), false);
});

test('listening with a bad timeout is refused the same way, before a port is taken', async () => {
  const gateway = await createGateway({ database: join(folder, 'keel.db'), environment: {} });
  try {
    await assert.rejects(listenGateway(gateway, { port: 0, host: '127.0.0.1', headersTimeoutMs: 0 }), /^KeelError: the gateway's headersTimeoutMs must be a whole number of ms from 1 to/);
    await assert.rejects(listenGateway(gateway, { port: 0, host: '127.0.0.1', requestTimeoutMs: 2.5 }), /requestTimeoutMs .* got 2\.5$/);
    await assert.rejects(listenGateway(gateway, { port: 0, host: '127.0.0.1', graceMs: -5 }), /graceMs must be a whole number of ms from 0 to/);
  } finally {
    await gateway.close();
  }
});

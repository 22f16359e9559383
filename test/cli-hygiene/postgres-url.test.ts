/**
 * A postgres:// URL with `sslmode=require` (or prefer, verify-ca) used to print pg's nine-line
 * SECURITY WARNING (from pg-connection-string, on the process's first connection) ahead of
 * Keel's own message. Keel now says what pg does in the URL it passes (verify-full), so stderr
 * holds Keel's one line alone. A refused port answers without a server; the local server, which
 * does not speak TLS, answers that it does not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openTestPostgres } from '../../src/store/testing/index.ts';
import { assertOneLineError, keel } from './keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-postgres-url-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('sslmode=require, prefer and verify-ca on a refused port: one line, Keel’s, naming the server', async () => {
  for (const mode of ['require', 'prefer', 'verify-ca']) {
    const result = await keel(['runs', '--db', `postgres://keel:secret@127.0.0.1:1/keel?sslmode=${mode}`], { cwd: folder });
    assertOneLineError(result, 1, 'db-unavailable', `sslmode=${mode}`);
    assert.match(result.stderr, /^keel: error \[db-unavailable\]: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/keel: /);
    assert.doesNotMatch(result.stderr, /WARNING|secret/);
  }
});

const postgres = await openTestPostgres();
test('sslmode=require against a server without TLS: one line saying so', { skip: 'skipReason' in postgres ? postgres.skipReason : false }, async () => {
  const url = new URL('url' in postgres ? postgres.url : '');
  url.searchParams.set('sslmode', 'require');
  const result = await keel(['audit', 'verify', '--db', url.href], { cwd: folder });
  assertOneLineError(result, 1, 'db-unavailable', 'sslmode=require on the local server');
  assert.match(result.stderr, /^keel: error \[db-unavailable\]: cannot connect to PostgreSQL at [^:]+:\d+\/\w+: The server does not support SSL connections\n$/);
});

/**
 * Where `keel serve` gets its admin token, and how a request's token is checked: the environment
 * or a file, one line for each way it can be wrong, and only the exact token accepted.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { adminTokenFromEnvironment, presentsAdminToken } from './admin-token.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-admin-token-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const token = '3f8a9c0e5b7d4a1f9e2c';

function refusal(environment: Record<string, string>): string {
  try {
    adminTokenFromEnvironment(environment);
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'usage-invalid');
    return (error as Error).message;
  }
  assert.fail('accepted');
}

test('the token comes from KEEL_ADMIN_TOKEN, or from the file KEEL_ADMIN_TOKEN_FILE names (its line end dropped); neither: the API is off', () => {
  assert.equal(adminTokenFromEnvironment({ KEEL_ADMIN_TOKEN: token }), token);
  const file = join(folder, 'token');
  writeFileSync(file, `${token}\n`);
  assert.equal(adminTokenFromEnvironment({ KEEL_ADMIN_TOKEN_FILE: file }), token);
  assert.equal(adminTokenFromEnvironment({}), undefined);
  assert.equal(adminTokenFromEnvironment({ KEEL_ADMIN_TOKEN: '', KEEL_ADMIN_TOKEN_FILE: '' }), undefined);
});

test('a short token, one with whitespace, both variables set, or a token file that is missing or a folder is refused in one line', () => {
  assert.match(refusal({ KEEL_ADMIN_TOKEN: 'abc' }), /is 3 characters long; it must be at least 16/);
  assert.match(refusal({ KEEL_ADMIN_TOKEN: `${token} ${token}` }), /contains whitespace/);
  assert.match(refusal({ KEEL_ADMIN_TOKEN: token, KEEL_ADMIN_TOKEN_FILE: join(folder, 'token') }), /not both/);
  assert.match(refusal({ KEEL_ADMIN_TOKEN_FILE: join(folder, 'missing') }), /cannot read the admin token file .*missing \(KEEL_ADMIN_TOKEN_FILE\): ENOENT/);
  mkdirSync(join(folder, 'a-folder'));
  assert.match(refusal({ KEEL_ADMIN_TOKEN_FILE: join(folder, 'a-folder') }), /cannot read the admin token file .*a-folder \(KEEL_ADMIN_TOKEN_FILE\): EISDIR/);
  for (const message of [refusal({ KEEL_ADMIN_TOKEN: 'abc' }), refusal({ KEEL_ADMIN_TOKEN_FILE: join(folder, 'missing') })]) assert.doesNotMatch(message, /\n/);
});

test('a request is let in by `Authorization: Bearer <the token>` only', () => {
  assert.equal(presentsAdminToken(`Bearer ${token}`, token), true);
  assert.equal(presentsAdminToken(`bearer ${token}  `, token), true);
  for (const header of [undefined, '', token, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${token}`, `Bearer ${token} extra`, 'Bearer ']) {
    assert.equal(presentsAdminToken(header, token), false, String(header));
  }
});

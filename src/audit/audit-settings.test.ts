import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configHash, parseConfig } from '../config/index.ts';
import { SqliteStore } from '../store/index.ts';
import { generateSigningKeyPair, openAuditLog, openVerifyingKey } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-audit-settings-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const pair = generateSigningKeyPair();
const signingKeyFile = join(folder, 'signing.pem');
const publicKeyFile = join(folder, 'public.pem');
writeFileSync(signingKeyFile, pair.privateKeyPem);
writeFileSync(publicKeyFile, pair.publicKeyPem);

function expectConfigError(work: () => unknown, message: RegExp): void {
  assert.throws(work, (error: unknown) => {
    assert.equal((error as { code?: string }).code, 'config-invalid');
    const text = (error as Error).message;
    assert.equal(text.includes('\n'), false, 'one line');
    assert.match(text, message);
    return true;
  });
}

test('no signing key configured: nothing is anchored; a key from the config or else the environment opens the log', () => {
  assert.equal(openAuditLog(store, undefined, {}), undefined);
  assert.equal(openAuditLog(store, {}, { KEEL_AUDIT_SIGNING_KEY_FILE: '' }), undefined);
  const fromEnvironment = openAuditLog(store, undefined, { KEEL_AUDIT_SIGNING_KEY_FILE: signingKeyFile });
  assert.equal(fromEnvironment?.log.keyId, pair.keyId);
  assert.equal(fromEnvironment?.anchorIntervalMs, 60_000);
  const fromConfig = openAuditLog(store, { signingKeyFile, anchorIntervalSeconds: 5 }, { KEEL_AUDIT_SIGNING_KEY_FILE: join(folder, 'elsewhere.pem') });
  assert.equal(fromConfig?.log.keyId, pair.keyId, 'the config wins over the environment');
  assert.equal(fromConfig?.anchorIntervalMs, 5_000);
  assert.equal(openVerifyingKey(undefined, { publicKeyFile }, {})?.keyId, pair.keyId);
  assert.equal(openVerifyingKey(publicKeyFile, undefined, { KEEL_AUDIT_PUBLIC_KEY_FILE: join(folder, 'elsewhere.pem') })?.keyId, pair.keyId);
  assert.equal(openVerifyingKey(undefined, undefined, {}), undefined);
});

test('a missing, unreadable or wrong key file stops the start in one line naming the file', () => {
  expectConfigError(() => openAuditLog(store, { signingKeyFile: join(folder, 'missing.pem') }, {}), /cannot read the audit signing key file .*missing\.pem: ENOENT/);
  const notPem = join(folder, 'not-pem.pem');
  writeFileSync(notPem, 'hello');
  expectConfigError(() => openAuditLog(store, { signingKeyFile: notPem }, {}), /the audit signing key file .*not-pem\.pem holds no PEM private key/);
  const rsa = join(folder, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  expectConfigError(() => openAuditLog(store, { signingKeyFile: rsa }, {}), /the audit signing key in .*rsa\.pem is rsa, not Ed25519/);
  expectConfigError(() => openVerifyingKey(signingKeyFile, undefined, {}), /holds a private key; the verifier takes the public key only/);
});

test("the config's audit section is checked strictly, and is left out of the config hash", () => {
  const base = { version: 1, routes: [] };
  expectConfigError(() => parseConfig({ ...base, audit: { anchorIntervalSeconds: 0 } }, 'keel.json'), /audit\.anchorIntervalSeconds/);
  expectConfigError(() => parseConfig({ ...base, audit: { signingKey: 'inline' } }, 'keel.json'), /signingKey/);
  const withAudit = parseConfig({ ...base, audit: { signingKeyFile, publicKeyFile, anchorIntervalSeconds: 30 } }, 'keel.json');
  assert.equal(configHash(withAudit), configHash(parseConfig(base, 'keel.json')), 'adding a key does not change what runs resume under');
});

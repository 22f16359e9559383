import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelError } from '../../errors/index.ts';
import type { Command } from '../command.ts';

const privateName = 'audit-signing-key.pem';
const publicName = 'audit-public-key.pem';

/**
 * `keel audit keygen --out DIR`: an Ed25519 key pair for signing tree heads. The private key is
 * written 0600 and never overwritten: replacing it would orphan every head it signed.
 */
export const auditKeygenCommand: Command = async (context) => {
  const folder = context.options.out;
  if (folder === undefined || folder === '') throw new KeelError('usage-invalid', 'keel audit keygen needs --out DIR (usage: keel audit keygen --out DIR)');
  const privatePath = join(folder, privateName);
  const publicPath = join(folder, publicName);
  for (const path of [privatePath, publicPath]) {
    if (existsSync(path)) throw new KeelError('usage-invalid', `${path} exists; keel audit keygen never overwrites a key (choose another --out)`);
  }
  const { generateSigningKeyPair } = await import('../../audit/index.ts');
  const pair = generateSigningKeyPair();
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  writeFileSync(publicPath, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  context.output.stdout(
    `key ${pair.keyId}\nsigning key (secret, 0600): ${privatePath}\npublic key (for keel audit verify --public-key): ${publicPath}\n` +
      `sign with it: config "audit": { "signingKeyFile": "${privatePath}" } or KEEL_AUDIT_SIGNING_KEY_FILE\n`,
  );
  return 0;
};

/**
 * Signed tree heads: the log's size and root, signed with Ed25519 over a fixed text with a version
 * line, so a signature means the same to every verifier and in every later Keel. The private key
 * lives in a file (PEM, PKCS#8) outside the database: whoever can rewrite the database but not
 * read that file cannot issue a head the public key accepts.
 */
import type { KeyObject } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import type { AuditTreeHeadV1 } from '../spec/index.ts';

// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } = process.getBuiltinModule('node:crypto');

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export interface VerifyingKey {
  publicKey: KeyObject;
  keyId: string;
}

export type UnsignedTreeHead = Pick<AuditTreeHeadV1, 'treeSize' | 'rootHash' | 'issuedAt' | 'keyId'>;

/** A key's name: the first 16 bytes of the SHA-256 of its public key (SPKI DER), in hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

/** The exact bytes a tree head's signature covers. */
export function treeHeadMessage(head: UnsignedTreeHead): Buffer {
  return Buffer.from(`keel-tree-head/v1\ntree-size ${head.treeSize}\nroot ${head.rootHash}\nissued-at ${head.issuedAt}\nkey-id ${head.keyId}\n`, 'utf8');
}

export function signTreeHead(head: UnsignedTreeHead, key: SigningKey): string {
  return sign(null, treeHeadMessage(head), key.privateKey).toString('base64');
}

/** True when the head names this key and its signature verifies with it. */
export function verifyTreeHeadSignature(head: AuditTreeHeadV1, key: VerifyingKey): boolean {
  if (head.keyId !== key.keyId) return false;
  try {
    return verify(null, treeHeadMessage(head), key.publicKey, Buffer.from(head.signature, 'base64'));
  } catch {
    return false;
  }
}

function readKeyFile(path: string, what: string): string {
  try {
    // Not an ES import of node:fs, which `keel audit verify` would pay for at start (docs/architecture.md, CLI start-up).
    return process.getBuiltinModule('node:fs').readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeelError('config-invalid', `cannot read the audit ${what} file ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
  }
}

function checkEd25519(key: KeyObject, path: string, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519') throw new KeelError('config-invalid', `the audit ${what} in ${path} is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519`);
}

/** Reads an Ed25519 private key (PEM, PKCS#8). */
export function loadSigningKey(path: string): SigningKey {
  const text = readKeyFile(path, 'signing key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new KeelError('config-invalid', `the audit signing key file ${path} holds no PEM private key (expected PKCS#8, as keel audit keygen writes)`, { cause: error });
  }
  checkEd25519(privateKey, path, 'signing key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Reads an Ed25519 public key (PEM, SPKI). */
export function loadVerifyingKey(path: string): VerifyingKey {
  const text = readKeyFile(path, 'public key');
  if (text.includes('PRIVATE KEY')) throw new KeelError('config-invalid', `${path} holds a private key; the verifier takes the public key only`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new KeelError('config-invalid', `the audit public key file ${path} holds no PEM public key`, { cause: error });
  }
  checkEd25519(publicKey, path, 'public key');
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/** A fresh Ed25519 key pair as PEM: PKCS#8 private, SPKI public. */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/**
 * The sealed form of a labelled payload field, as the journal stores it. The field's canonical
 * JSON is encrypted with AES-256-GCM under a data key derived (HKDF-SHA256, a fresh salt per field)
 * from the keys of every subject the field is about, so destroying any one of those keys makes it
 * unreadable for good. The journal hashes the envelope, not the plaintext: destroying a key changes
 * no stored byte of the journal, and every chain and tree head still verifies.
 */
import { canonicalJson } from '../journal/hash.ts';
import type { JsonValue } from '../spec/index.ts';

// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { createCipheriv, createDecipheriv, hkdfSync, randomBytes } = process.getBuiltinModule('node:crypto');

/** The subject and the key a field was sealed under. */
export interface SealingKeyReference {
  subject: string;
  keyId: string;
}

export interface SealedEnvelope {
  $sealed: {
    v: 1;
    alg: 'A256GCM';
    keys: SealingKeyReference[];
    /** Base64: HKDF salt, GCM nonce, ciphertext, GCM tag. */
    salt: string;
    iv: string;
    ct: string;
    tag: string;
  };
}

/** What a reader sees where a field's keys were destroyed. */
export interface RedactedMarker {
  $redacted: { subjects: string[]; at: string | null };
}

/** A subject key in hand: its id and its 32 bytes. */
export interface SubjectKeyMaterial {
  subject: string;
  keyId: string;
  material: Buffer;
}

const info = Buffer.from('keel-sealed-field/v1', 'utf8');

export function isSealedEnvelope(value: unknown): value is SealedEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== '$sealed') return false;
  const inner = (value as { $sealed: unknown }).$sealed;
  return typeof inner === 'object' && inner !== null && (inner as { v?: unknown }).v === 1 && Array.isArray((inner as { keys?: unknown }).keys);
}

export function isRedactedMarker(value: unknown): value is RedactedMarker {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && '$redacted' in value;
}

/** The additional authenticated data: the key list, so an envelope's subjects cannot be swapped. */
function associatedData(keys: readonly SealingKeyReference[]): Buffer {
  return Buffer.from(canonicalJson(keys.map((key) => ({ keyId: key.keyId, subject: key.subject }))), 'utf8');
}

/** The data key of a set of subject keys (sorted by subject) and a salt. */
export function deriveDataKey(keys: readonly SubjectKeyMaterial[], salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.concat(keys.map((key) => key.material)), salt, info, 32));
}

function bySubject(keys: readonly SubjectKeyMaterial[]): SubjectKeyMaterial[] {
  return [...keys].sort((left, right) => (left.subject < right.subject ? -1 : left.subject > right.subject ? 1 : 0));
}

/**
 * A data key ready for sealing many fields: derived once (HKDF costs as much as the encryption),
 * each field then gets its own random 96-bit nonce, well within GCM's limit for random nonces.
 */
export interface PreparedDataKey {
  keys: SubjectKeyMaterial[];
  salt: Buffer;
  dataKey: Buffer;
}

export function prepareDataKey(keys: readonly SubjectKeyMaterial[]): PreparedDataKey {
  const ordered = bySubject(keys);
  const salt = randomBytes(16);
  return { keys: ordered, salt, dataKey: deriveDataKey(ordered, salt) };
}

/** Seals `value` under every given key (one per subject), or under a data key prepared from them. */
export function sealValue(value: JsonValue, keys: readonly SubjectKeyMaterial[] | PreparedDataKey): SealedEnvelope {
  const prepared = Array.isArray(keys) ? prepareDataKey(keys) : (keys as PreparedDataKey);
  const references = prepared.keys.map((key) => ({ subject: key.subject, keyId: key.keyId }));
  const salt = prepared.salt;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', prepared.dataKey, iv);
  cipher.setAAD(associatedData(references));
  const ct = Buffer.concat([cipher.update(canonicalJson(value), 'utf8'), cipher.final()]);
  return { $sealed: { v: 1, alg: 'A256GCM', keys: references, salt: salt.toString('base64'), iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') } };
}

/**
 * The plaintext, given the envelope's keys by id; undefined when any key is missing (destroyed).
 * A key that is present but wrong (a forged or damaged envelope) throws: that is not a redaction.
 */
export function openEnvelope(envelope: SealedEnvelope, keysById: ReadonlyMap<string, SubjectKeyMaterial>, derive: (keys: SubjectKeyMaterial[], salt: Buffer) => Buffer = deriveDataKey): JsonValue | undefined {
  const sealed = envelope.$sealed;
  const keys: SubjectKeyMaterial[] = [];
  for (const reference of sealed.keys) {
    const key = keysById.get(reference.keyId);
    if (key === undefined) return undefined;
    keys.push(key);
  }
  const decipher = createDecipheriv('aes-256-gcm', derive(keys, Buffer.from(sealed.salt, 'base64')), Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(associatedData(sealed.keys));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const text = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  return JSON.parse(text) as JsonValue;
}

/** Every envelope anywhere inside `value`. */
export function findEnvelopes(value: unknown, found: SealedEnvelope[] = []): SealedEnvelope[] {
  if (isSealedEnvelope(value)) found.push(value);
  else if (Array.isArray(value)) for (const item of value) findEnvelopes(item, found);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) findEnvelopes(item, found);
  return found;
}

/** `value` with every envelope replaced by what `replace` gives for it; the rest shared, not copied. */
export function replaceEnvelopes(value: JsonValue, replace: (envelope: SealedEnvelope) => JsonValue): JsonValue {
  if (isSealedEnvelope(value)) return replace(value);
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const next = replaceEnvelopes(item, replace);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? items : value;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const entries = Object.entries(value).map(([key, item]) => {
      const next = replaceEnvelopes(item, replace);
      if (next !== item) changed = true;
      return [key, next] as const;
    });
    return changed ? Object.fromEntries(entries) : value;
  }
  return value;
}

/** Every redacted marker anywhere inside an opened value. */
export function findRedactedMarkers(value: unknown, found: RedactedMarker[] = []): RedactedMarker[] {
  if (isRedactedMarker(value)) found.push(value);
  else if (Array.isArray(value)) for (const item of value) findRedactedMarkers(item, found);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) findRedactedMarkers(item, found);
  return found;
}

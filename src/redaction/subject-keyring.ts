/**
 * A short-lived cache of subject keys over the store (src/spec/subject-key-store-v1.ts): one per
 * run being executed, one per command reading journals. Kept short so that a key destroyed by
 * `keel redact` stays in no process's memory longer than the run or the command that loaded it.
 */
import { KeelError } from '../errors/index.ts';
import type { JsonValue, StoreV1, SubjectKeyStoreV1, SubjectKeyV1 } from '../spec/index.ts';
import type { RedactedMarker, SealedEnvelope, SubjectKeyMaterial } from './sealed-envelope.ts';
import { deriveDataKey, findEnvelopes, openEnvelope, replaceEnvelopes } from './sealed-envelope.ts';

// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { randomBytes, randomUUID } = process.getBuiltinModule('node:crypto');

export class SubjectKeyring {
  readonly #store: SubjectKeyStoreV1;
  readonly #live = new Map<string, SubjectKeyMaterial>();
  readonly #byId = new Map<string, SubjectKeyMaterial>();
  readonly #redactedAt = new Map<string, string>();
  /** Derived data keys by key ids and salt: a run's fields share one salt, so one derivation serves them all. */
  readonly #dataKeys = new Map<string, Buffer>();

  constructor(store: SubjectKeyStoreV1) {
    this.#store = store;
  }

  /** The keyring of a store that keeps subject keys; undefined for one that does not. */
  static of(store: StoreV1): SubjectKeyring | undefined {
    return store.subjectKeys === undefined ? undefined : new SubjectKeyring(store.subjectKeys);
  }

  /** Creates (or loads) the live key of each subject, so `liveKeys` can seal without waiting. */
  async ensure(subjects: readonly string[]): Promise<void> {
    const missing = [...new Set(subjects)].filter((subject) => !this.#live.has(subject));
    if (missing.length === 0) return;
    const createdAt = new Date().toISOString();
    const stored = await this.#store.ensureSubjectKeys(missing.map((subject) => ({ subject, keyId: randomUUID(), material: randomBytes(32).toString('base64'), createdAt })));
    for (const key of stored) this.#remember(key, true);
  }

  /** The live keys of these subjects; each must have been ensured. */
  liveKeys(subjects: readonly string[]): SubjectKeyMaterial[] {
    return subjects.map((subject) => {
      const key = this.#live.get(subject);
      if (key === undefined) throw new KeelError('internal', `no key loaded for subject ${subject}: ensure it before sealing`);
      return key;
    });
  }

  /**
   * `value` with every sealed field opened, or replaced by a redacted marker naming the subjects
   * whose keys were destroyed and when.
   */
  async open(value: JsonValue): Promise<JsonValue> {
    const envelopes = findEnvelopes(value);
    if (envelopes.length === 0) return value;
    await this.#load(envelopes);
    return replaceEnvelopes(value, (envelope) => openEnvelope(envelope, this.#byId, (keys, salt) => this.#dataKey(keys, salt)) ?? this.#marker(envelope));
  }

  #dataKey(keys: SubjectKeyMaterial[], salt: Buffer): Buffer {
    const name = `${keys.map((key) => key.keyId).join(',')}/${salt.toString('base64')}`;
    let dataKey = this.#dataKeys.get(name);
    if (dataKey === undefined) {
      dataKey = deriveDataKey(keys, salt);
      this.#dataKeys.set(name, dataKey);
    }
    return dataKey;
  }

  async #load(envelopes: readonly SealedEnvelope[]): Promise<void> {
    const wanted = [...new Set(envelopes.flatMap((envelope) => envelope.$sealed.keys.map((key) => key.keyId)))].filter((keyId) => !this.#byId.has(keyId) && !this.#redactedAt.has(keyId));
    if (wanted.length === 0) return;
    for (const key of await this.#store.readSubjectKeys(wanted)) this.#remember(key, false);
    const gone = wanted.filter((keyId) => !this.#byId.has(keyId));
    for (const redaction of await this.#store.readSubjectRedactions(gone)) this.#redactedAt.set(redaction.keyId, redaction.redactedAt);
    // A key neither live nor recorded as redacted (removed by hand, or a retention job): unreadable all the same.
    for (const keyId of gone) if (!this.#redactedAt.has(keyId)) this.#redactedAt.set(keyId, '');
  }

  #marker(envelope: SealedEnvelope): RedactedMarker & { [key: string]: JsonValue } {
    const destroyed = envelope.$sealed.keys.filter((key) => !this.#byId.has(key.keyId));
    const times = destroyed.map((key) => this.#redactedAt.get(key.keyId) ?? '').filter((time) => time !== '').sort();
    return { $redacted: { subjects: [...new Set(destroyed.map((key) => key.subject))].sort(), at: times.at(-1) ?? null } };
  }

  #remember(key: SubjectKeyV1, live: boolean): void {
    const material = { subject: key.subject, keyId: key.keyId, material: Buffer.from(key.material, 'base64') };
    if (material.material.length !== 32) throw new KeelError('db-unreadable', `subject key ${key.keyId} of ${key.subject} is not 32 bytes`);
    if (live) this.#live.set(key.subject, material);
    this.#byId.set(key.keyId, material);
  }
}

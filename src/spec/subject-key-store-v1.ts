/**
 * Subject key store specification, version 1: the per-subject keys that seal labelled payload
 * fields (src/redaction), and the record of the keys destroyed. Types only. A key is created once
 * per subject (concurrently safe: the first writer wins, everyone reads that one), and destroying
 * it is the redaction: every field sealed under it becomes unreadable while its hash still verifies.
 *
 * Key material is base64 text; the store never interprets it.
 */

/** A live key of a subject. A subject redacted and seen again gets a new key under a new id. */
export interface SubjectKeyV1 {
  subject: string;
  /** Random, named in every envelope sealed under it. */
  keyId: string;
  /** 32 bytes, base64. */
  material: string;
  createdAt: string;
}

/** A key that was destroyed: who asked, why, when. The key material is gone. */
export interface SubjectRedactionV1 {
  subject: string;
  keyId: string;
  redactedAt: string;
  by: string;
  reason: string;
}

export interface SubjectKeyStoreV1 {
  readonly subjectKeySpecificationVersion: 'v1';
  /**
   * The live key of each subject, inserting the proposed one where a subject has none. Two
   * processes proposing at once both get the key that was stored first.
   */
  ensureSubjectKeys(proposed: readonly SubjectKeyV1[]): Promise<SubjectKeyV1[]>;
  /** The keys with these ids that still exist (destroyed ones are absent). */
  readSubjectKeys(keyIds: readonly string[]): Promise<SubjectKeyV1[]>;
  /** The redactions of these key ids. */
  readSubjectRedactions(keyIds: readonly string[]): Promise<SubjectRedactionV1[]>;
  /** Whether the subject ever had a key, live or destroyed. */
  knowsSubject(subject: string): Promise<boolean>;
  /**
   * Destroys the subject's live key and records the redaction, in one transaction, so that no copy
   * of the key stays readable in the store's files (SQLite: secure_delete and a truncating WAL
   * checkpoint; PostgreSQL: a VACUUM of the key table). Returns the redaction, or undefined when
   * the subject has no live key (never had one, or already redacted). `scrubbed` is false when the
   * store could not yet clear every older copy from its files (a SQLite reader held the WAL): the
   * key is destroyed for every reader, and running the redaction again finishes the scrub.
   */
  destroySubjectKey(subject: string, record: { by: string; reason: string; at: string }): Promise<(SubjectRedactionV1 & { scrubbed: boolean }) | undefined>;
}

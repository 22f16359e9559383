/**
 * `keel redact --subject ID`: crypto-shredding. The subject's key is destroyed, so every field
 * sealed under it (in any run, any export made from the store afterwards, any dataset pinned from
 * it) reads as redacted, while the journal's bytes, hashes and tree heads are untouched and verify.
 * The act is journaled as a run of its own (task `subject-redaction`, one step `subject-redact`):
 * who asked, why, when, which key; the run is anchored in the audit log like any other.
 */
import type { TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JsonValue, StoreV1, SubjectKeyStoreV1 } from '../spec/index.ts';

export const redactionTaskName = 'subject-redaction';

export interface RedactionInput {
  [key: string]: JsonValue;
  subject: string;
  reason: string;
}

export interface RedactionResult {
  [key: string]: JsonValue;
  subject: string;
  /** The key destroyed now; null when it already was (a repeat changes nothing). */
  keyId: string | null;
  redactedAt: string;
  by: string;
  reason: string;
  /** False when an older copy could not be cleared from the store's files yet (run again). */
  scrubbed: boolean;
}

export function subjectKeysOf(store: StoreV1): SubjectKeyStoreV1 {
  if (store.subjectKeys === undefined) throw new KeelError('redaction-unavailable', `store ${store.location} keeps no subject keys`);
  return store.subjectKeys;
}

/** Refuses, in one line, a subject the store never sealed anything for. */
export async function checkSubjectKnown(store: StoreV1, subject: string): Promise<void> {
  if (subject.trim() === '') throw new KeelError('usage-invalid', 'keel redact needs --subject ID: the subject named in the labels of the data to redact');
  if (!(await subjectKeysOf(store).knowsSubject(subject))) {
    throw new KeelError('subject-unknown', `no data sealed for subject ${subject} in ${store.location}: nothing to redact (subjects are named in tool result labels, docs/redaction.md)`);
  }
}

export function redactionTask(store: StoreV1): TaskDefinition<RedactionInput, RedactionResult> {
  // A plain definition (defineTask is the identity): the engine imports this component, not the reverse.
  return {
    name: redactionTaskName,
    version: '1',
    async run(context, input) {
      const keys = subjectKeysOf(store);
      return context.step<RedactionResult>(
        'subject-redact',
        async () => {
          const at = new Date().toISOString();
          const destroyed = await keys.destroySubjectKey(input.subject, { by: context.principal, reason: input.reason, at });
          if (destroyed !== undefined) return { subject: input.subject, keyId: destroyed.keyId, redactedAt: destroyed.redactedAt, by: destroyed.by, reason: destroyed.reason, scrubbed: destroyed.scrubbed };
          return { subject: input.subject, keyId: null, redactedAt: at, by: context.principal, reason: input.reason, scrubbed: true };
        },
        // Destroying a destroyed key changes nothing: safe to run again after a crash.
        { idempotent: true, input: { subject: input.subject, reason: input.reason, by: context.principal } },
      );
    },
  };
}

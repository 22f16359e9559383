/**
 * Memory entries about subjects, sealed as journal payload fields are (sealed-envelope.ts): an
 * entry whose labels classify it `personal` or `confidential` and name `subjects` is stored with its
 * text replaced by the canonical JSON of an envelope sealing that text under the subjects' keys.
 * The store's SQL is unchanged: it keeps a string as it always did. `keel redact --subject` destroys
 * the key, and the entry then reads as a redacted marker wherever memory is read.
 *
 * Memory labels are free-form strings, so several subjects are named comma-separated:
 * `{ classification: 'personal', subjects: 'cust-42,cust-7' }`.
 */
import { KeelError } from '../errors/index.ts';
import { canonicalJson } from '../journal/index.ts';
import type { ClassificationV1, JsonValue, SubjectKeyStoreV1 } from '../spec/index.ts';
import type { RedactedMarker } from './sealed-envelope.ts';
import { findEnvelopes, isRedactedMarker, isSealedEnvelope, sealValue } from './sealed-envelope.ts';
import { SubjectKeyring } from './subject-keyring.ts';
import { subjectsToSeal } from './subjects-to-seal.ts';

/** What a memory entry's text opens to. */
export type OpenedMemoryText =
  | { text: string }
  | { text: string; redacted: RedactedMarker['$redacted'] }
  /** An envelope whose keys exist but which does not open: forged or damaged, never a redaction. */
  | { text: string; unreadable: true };

/** The subjects named by a memory entry's `subjects` label, comma-separated. */
export function memoryLabelSubjects(labels: { readonly [key: string]: string }): string[] {
  return (labels.subjects ?? '').split(',').map((subject) => subject.trim()).filter((subject) => subject !== '');
}

/** The subjects an entry with these labels is sealed under; none when it is not personal or confidential. */
export function memorySubjectsToSeal(labels: { readonly [key: string]: string }): string[] {
  return subjectsToSeal([{ classification: labels.classification as ClassificationV1 | undefined, subjects: memoryLabelSubjects(labels) }]);
}

/** A stored text that is a sealed envelope, or undefined. */
function envelopeIn(text: string): JsonValue | undefined {
  if (!text.startsWith('{"$sealed":')) return undefined;
  try {
    const parsed = JSON.parse(text) as JsonValue;
    return isSealedEnvelope(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The subjects a stored text was sealed under (none for a plain text). */
export function sealedMemorySubjects(text: string): string[] {
  const envelope = envelopeIn(text);
  return envelope === undefined ? [] : [...new Set(findEnvelopes(envelope).flatMap((found) => found.$sealed.keys.map((key) => key.subject)))].sort();
}

/** The text to store: the canonical JSON of `text` sealed under the subjects' live keys (created when missing). */
export async function sealMemoryText(keys: SubjectKeyStoreV1 | undefined, text: string, subjects: readonly string[]): Promise<string> {
  if (keys === undefined) throw new KeelError('redaction-unavailable', `memory about ${subjects.join(', ')} must be sealed, but the store keeps no subject keys to seal it with`);
  // A fresh keyring per write: a key destroyed since the last write is never reused from memory.
  const keyring = new SubjectKeyring(keys);
  await keyring.ensure(subjects);
  return canonicalJson(sealValue(text, keyring.liveKeys([...subjects].sort())));
}

/** The text a reader (an agent's context, a summariser) sees where an entry was redacted. */
export function redactedMemoryText(marker: RedactedMarker['$redacted']): string {
  return marker.at === null ? '[redacted]' : `[redacted ${marker.at}]`;
}

/**
 * Opens stored texts: a plain text as it is, a sealed one to its plaintext while its keys exist,
 * or to the redacted text (with the marker) once any was destroyed. One keyring for the call, so
 * keys are read once per call and kept no longer.
 */
export async function openMemoryTexts(keys: SubjectKeyStoreV1 | undefined, texts: readonly string[]): Promise<OpenedMemoryText[]> {
  const envelopes = texts.map(envelopeIn);
  if (envelopes.every((envelope) => envelope === undefined)) return texts.map((text) => ({ text }));
  const keyring = keys === undefined ? undefined : new SubjectKeyring(keys);
  return Promise.all(
    texts.map(async (text, index): Promise<OpenedMemoryText> => {
      const envelope = envelopes[index];
      if (envelope === undefined) return { text };
      if (keyring === undefined) return { text: '[unreadable]', unreadable: true };
      let opened: JsonValue;
      try {
        opened = await keyring.open(envelope);
      } catch {
        return { text: '[unreadable]', unreadable: true };
      }
      if (isRedactedMarker(opened)) return { text: redactedMemoryText(opened.$redacted), redacted: opened.$redacted };
      return typeof opened === 'string' ? { text: opened } : { text: canonicalJson(opened) };
    }),
  );
}

export type { RedactedMarker, SealedEnvelope, SealingKeyReference, SubjectKeyMaterial } from './sealed-envelope.ts';
export { findEnvelopes, isRedactedMarker, isSealedEnvelope, openEnvelope, sealValue } from './sealed-envelope.ts';
export { SubjectKeyring } from './subject-keyring.ts';
export { RunSealer } from './run-sealer.ts';
export { openSealedFields, openSealedFieldsIn, openSealedValue } from './open-sealed-fields.ts';
export type { SealingRunContext } from './subjects-to-seal.ts';
export { canSeal, subjectsToSeal } from './subjects-to-seal.ts';
export type { RedactionInput, RedactionResult } from './redact-subject.ts';
export { checkSubjectKnown, redactionTask, redactionTaskName, subjectKeysOf } from './redact-subject.ts';

import type { ClassificationV1 } from '../spec/index.ts';

/**
 * The subjects a labelled value must be sealed under: those named by any of its parts that is
 * personal or confidential. Public and internal data is nobody's secret; a sensitive part that
 * names no subject has no key to be shredded with, and stays as it is (docs/redaction.md).
 */
export function subjectsToSeal(parts: readonly { classification?: ClassificationV1 | undefined; subjects?: readonly string[] | undefined }[]): string[] {
  const subjects = new Set<string>();
  for (const part of parts) {
    if (part.classification !== 'personal' && part.classification !== 'confidential') continue;
    for (const subject of part.subjects ?? []) if (subject !== '') subjects.add(subject);
  }
  return [...subjects].sort();
}

/** A run context that can seal (the durable one); others (replay, test doubles) journal nothing to seal. */
export interface SealingRunContext {
  sealSubjects(subjects: readonly string[]): Promise<boolean>;
}

export function canSeal(context: object): context is SealingRunContext {
  return typeof (context as Partial<SealingRunContext>).sealSubjects === 'function';
}

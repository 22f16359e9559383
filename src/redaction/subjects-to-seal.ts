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
  /** The subjects the run's payloads are sealed under now. */
  sealingSubjects?(): readonly string[];
}

/**
 * Labels for memory a run writes: while the run holds data about subjects, what it remembers may
 * repeat that data, so the entry is labelled personal with those subjects and stored sealed
 * (src/redaction/sealed-memory.ts). Other labels are kept; unchanged outside such a run.
 */
export function memoryLabelsInRun(context: object, labels: { [key: string]: string }): { [key: string]: string } {
  const held = canSeal(context) ? (context.sealingSubjects?.() ?? []) : [];
  if (held.length === 0) return labels;
  const named = (labels.subjects ?? '').split(',').map((subject) => subject.trim()).filter((subject) => subject !== '');
  const classification = labels.classification === 'confidential' ? 'confidential' : 'personal';
  return { ...labels, classification, subjects: [...new Set([...named, ...held])].sort().join(',') };
}

export function canSeal(context: object): context is SealingRunContext {
  return typeof (context as Partial<SealingRunContext>).sealSubjects === 'function';
}

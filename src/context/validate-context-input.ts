import { KeelError } from '../errors/index.ts';
import type { AssembleContextInput, ContextItem, ContextSection, SectionKind, TruncationRule } from './context-spec.ts';
import { readLabels } from './read-labels.ts';

const kinds: ReadonlySet<SectionKind> = new Set(['instructions', 'retrieval', 'memory', 'history', 'tool-state', 'documents']);
const rules: ReadonlySet<TruncationRule> = new Set(['drop-lowest-score', 'drop-oldest', 'truncate-tail', 'truncate-head', 'summarise-then-drop', 'never']);

/**
 * Refuses input that would make assembly ambiguous or its manifest unhashable: duplicate section
 * names, non-integer budgets, non-finite numbers, tool results without the call they answer, bad
 * labels. Returns the input with every item's labels read as LabelsV1 (see readLabels).
 */
export function validateContextInput(input: AssembleContextInput): AssembleContextInput {
  const { target, reserveForOutput, sections } = input;
  if (!isCount(target.contextWindow) || target.contextWindow === 0) invalid(`contextWindow must be a positive integer, got ${target.contextWindow}`);
  if (!isCount(reserveForOutput)) invalid(`reserveForOutput must be a non-negative integer, got ${reserveForOutput}`);
  const names = new Set<string>();
  for (const section of sections) {
    if (names.has(section.name)) invalid(`two context sections are named "${section.name}"`);
    names.add(section.name);
  }
  return { ...input, sections: sections.map(validateSection) };
}

function validateSection(section: ContextSection): ContextSection {
  const where = `context section "${section.name}"`;
  if (!kinds.has(section.kind)) invalid(`${where} has unknown kind "${section.kind}"`);
  if (!rules.has(section.truncation)) invalid(`${where} has unknown truncation rule "${section.truncation}"`);
  if (!Number.isFinite(section.priority)) invalid(`${where} has a priority that is not a finite number`);
  if (section.position !== undefined && !Number.isFinite(section.position)) invalid(`${where} has a position that is not a finite number`);
  if (!isCount(section.maxTokens)) invalid(`${where} has maxTokens ${section.maxTokens}; it must be a non-negative integer`);
  const items = section.items.map((item) => validateItem(where, item));
  return section.summary === undefined ? { ...section, items } : { ...section, items, summary: validateItem(`${where} summary`, section.summary) };
}

function validateItem(where: string, item: ContextItem): ContextItem {
  const name = `${where} item ${item.source}/${item.id}`;
  if (typeof item.text !== 'string' || typeof item.source !== 'string' || typeof item.id !== 'string' || typeof item.version !== 'string') {
    invalid(`${name} needs string source, id, version and text`);
  }
  const labels = readLabels(name, item.labels);
  const meta = item.meta;
  if (meta?.ageMs !== undefined && !Number.isFinite(meta.ageMs)) invalid(`${name} has an ageMs that is not a finite number`);
  if (meta?.score !== undefined && !Number.isFinite(meta.score)) invalid(`${name} has a score that is not a finite number`);
  if (item.role === 'tool' && (meta?.toolCallId === undefined || meta.toolName === undefined)) invalid(`${name} has role "tool" but no meta.toolCallId and meta.toolName`);
  return { ...item, labels };
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function invalid(message: string): never {
  throw new KeelError('config-invalid', message);
}

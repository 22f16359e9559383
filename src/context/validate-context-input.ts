import { KeelError } from '../errors/index.ts';
import type { AssembleContextInput, ContextItem, ContextSection, SectionKind, TruncationRule } from './context-spec.ts';

const kinds: ReadonlySet<SectionKind> = new Set(['instructions', 'retrieval', 'memory', 'history', 'tool-state', 'documents']);
const classifications: ReadonlySet<string> = new Set(['public', 'internal', 'confidential', 'personal']);
const origins: ReadonlySet<string> = new Set(['user', 'system', 'untrusted']);
const rules: ReadonlySet<TruncationRule> = new Set(['drop-lowest-score', 'drop-oldest', 'truncate-tail', 'truncate-head', 'summarise-then-drop', 'never']);

/**
 * Refuses input that would make assembly ambiguous or its manifest unhashable: duplicate section
 * names, non-integer budgets, non-finite numbers, tool results without the call they answer.
 */
export function validateContextInput(input: AssembleContextInput): void {
  const { target, reserveForOutput, sections } = input;
  if (!isCount(target.contextWindow) || target.contextWindow === 0) invalid(`contextWindow must be a positive integer, got ${target.contextWindow}`);
  if (!isCount(reserveForOutput)) invalid(`reserveForOutput must be a non-negative integer, got ${reserveForOutput}`);
  const names = new Set<string>();
  for (const section of sections) {
    if (names.has(section.name)) invalid(`two context sections are named "${section.name}"`);
    names.add(section.name);
    validateSection(section);
  }
}

function validateSection(section: ContextSection): void {
  const where = `context section "${section.name}"`;
  if (!kinds.has(section.kind)) invalid(`${where} has unknown kind "${section.kind}"`);
  if (!rules.has(section.truncation)) invalid(`${where} has unknown truncation rule "${section.truncation}"`);
  if (!Number.isFinite(section.priority)) invalid(`${where} has a priority that is not a finite number`);
  if (section.position !== undefined && !Number.isFinite(section.position)) invalid(`${where} has a position that is not a finite number`);
  if (!isCount(section.maxTokens)) invalid(`${where} has maxTokens ${section.maxTokens}; it must be a non-negative integer`);
  for (const item of section.items) validateItem(where, item);
  if (section.summary !== undefined) validateItem(`${where} summary`, section.summary);
}

function validateItem(where: string, item: ContextItem): void {
  const name = `${where} item ${item.source}/${item.id}`;
  if (typeof item.text !== 'string' || typeof item.source !== 'string' || typeof item.id !== 'string' || typeof item.version !== 'string') {
    invalid(`${name} needs string source, id, version and text`);
  }
  // Labels drive access and information-flow decisions downstream: a misspelt one must not pass as unlabelled.
  const { classification, origin } = item.labels;
  if (classification !== undefined && !classifications.has(classification)) invalid(`${name} has unknown classification "${classification}"`);
  if (origin !== undefined && !origins.has(origin)) invalid(`${name} has unknown origin "${origin}"`);
  const meta = item.meta;
  if (meta?.ageMs !== undefined && !Number.isFinite(meta.ageMs)) invalid(`${name} has an ageMs that is not a finite number`);
  if (meta?.score !== undefined && !Number.isFinite(meta.score)) invalid(`${name} has a score that is not a finite number`);
  if (item.role === 'tool' && (meta?.toolCallId === undefined || meta.toolName === undefined)) invalid(`${name} has role "tool" but no meta.toolCallId and meta.toolName`);
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function invalid(message: string): never {
  throw new KeelError('config-invalid', message);
}

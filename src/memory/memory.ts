/**
 * Memory over the store: conversation memory per session, long-term memory per tenant and
 * principal, and hand-off state passed from one agent to another. Everything lives in the store
 * (a MemoryStoreV1: either store adapter is one), so a session resumed in another process sees the
 * same memory. The tenant is part of every scope: one tenant's memory is never read under another's.
 */
import { createHash } from 'node:crypto';
import type { ContextItem, ContextLabels, ContextRole } from '../context/index.ts';
import { textTokenCounter } from '../cost/index.ts';
import type { TextTokenCounter } from '../cost/index.ts';
import { KeelError } from '../errors/index.ts';
import type { RedactedMarker } from '../redaction/index.ts';
import { memoryLabelSubjects, memorySubjectsToSeal, openMemoryTexts, sealedMemorySubjects, sealMemoryText } from '../redaction/index.ts';
import type { ClassificationV1, JsonValue, MemoryEntryV1, MemoryRoleV1, MemoryScopeV1, MemorySourceV1, MemoryStoreV1, NewMemoryEntryV1, OriginV1, StoreV1, SubjectKeyStoreV1 } from '../spec/index.ts';

/** Framing tokens per item, as context assembly counts them. */
const perItemTokens = 4;

export interface MemoryOptions {
  store: MemoryStoreV1;
  /** Counts tokens for budgets; default the simulator's counter (o200k). */
  counter?: TextTokenCounter;
  /** The clock for createdAt; default the system clock. */
  now?: () => Date;
  /**
   * Where the keys of subjects live, for entries labelled personal or confidential with `subjects`
   * (docs/redaction.md); default the store's own (both store adapters keep them).
   */
  subjectKeys?: SubjectKeyStoreV1;
}

/**
 * An entry as read: its text opened when it was sealed. Where its subject's key was destroyed
 * (`keel redact`) the text is `[redacted <when>]` and `redacted` says whose and when; where a
 * sealed text does not open (forged or damaged) it is `[unreadable]` and `unreadable` is set.
 */
export interface MemoryEntry extends MemoryEntryV1 {
  redacted?: RedactedMarker['$redacted'];
  unreadable?: true;
}

export interface RememberOptions {
  role?: MemoryRoleV1;
  /**
   * Free-form labels. `classification: 'personal'` (or `'confidential'`) with `subjects: 'ID[,ID…]'`
   * stores the text sealed under those subjects' keys, so `keel redact --subject ID` erases it.
   */
  labels?: { [key: string]: string };
  /** Which run and step wrote this; see `memorySource`. Default: none (written outside a run). */
  source?: MemorySourceV1;
}

/** What a summariser returns: the summary text, and optionally the run/step that made it. */
export type SummaryResult = string | { text: string; source: MemorySourceV1 };

export interface SummariseOptions {
  /** Keep this many newest entries out of the summary (default 1: the latest turn stays verbatim). */
  keepLast?: number;
  /** Provenance of the summary when the summariser does not return one. */
  source?: MemorySourceV1;
  labels?: { [key: string]: string };
}

/**
 * The provenance of a write made from inside a run: pass the StepInfo of the step doing the write
 * (`context.step('remember', (info) => memory.remember(text, { source: memorySource(context.runId, info) }))`),
 * whose idempotency key `run:epoch:step` names the step.
 */
export function memorySource(runId: string, info?: { idempotencyKey: string }): MemorySourceV1 {
  const step = info === undefined ? NaN : Number(info.idempotencyKey.slice(info.idempotencyKey.lastIndexOf(':') + 1));
  return { runId, step: Number.isSafeInteger(step) ? step : null };
}

/** sha256 hex of a stored text: of the sealed form for a sealed entry, so it confirms no guess of the plaintext. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function scopeId(scope: MemoryScopeV1): string {
  if (scope.kind === 'session') return scope.sessionId;
  if (scope.kind === 'long-term') return scope.principal;
  return scope.handoffId;
}

const contextRoles: Record<MemoryRoleV1, ContextRole> = {
  system: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'user',
  summary: 'user',
  state: 'user',
};

const classifications: ReadonlySet<string> = new Set<ClassificationV1>(['public', 'internal', 'confidential', 'personal']);
const origins: ReadonlySet<string> = new Set<OriginV1>(['user', 'system', 'untrusted']);

/** An entry's free-form labels as LabelsV1: its scope's tenant, and the `classification` and `origin` it was written with, when known. */
function contextLabels(entry: MemoryEntry): ContextLabels {
  const { classification, origin } = entry.labels;
  const labels: ContextLabels = { tenants: [entry.scope.tenant], origins: origin !== undefined && origins.has(origin) ? [origin as OriginV1] : [] };
  if (classification !== undefined && classifications.has(classification)) labels.classification = classification as ClassificationV1;
  // A redacted entry's text is the marker: it holds nothing of its subjects any more.
  const subjects = entry.redacted === undefined && entry.unreadable === undefined ? memoryLabelSubjects(entry.labels) : [];
  if (subjects.length > 0) labels.subjects = subjects;
  return labels;
}

/** A memory entry as a context item: source `memory:<kind>`, id `<scope id>#<seq>`, version its content hash. */
export function toContextItem(entry: MemoryEntry, now: Date = new Date()): ContextItem {
  return {
    source: `memory:${entry.scope.kind}`,
    id: `${scopeId(entry.scope)}#${entry.seq}`,
    version: entry.contentHash.slice(0, 16),
    text: entry.text,
    labels: contextLabels(entry),
    role: contextRoles[entry.role],
    meta: { ageMs: Math.max(0, now.getTime() - Date.parse(entry.createdAt)) },
  };
}

/** The common part of every kind of memory: one scope in the store. */
export class ScopedMemory {
  readonly scope: MemoryScopeV1;
  protected readonly store: MemoryStoreV1;
  readonly #subjectKeys: SubjectKeyStoreV1 | undefined;
  readonly #counter: TextTokenCounter;
  readonly #now: () => Date;

  constructor(scope: MemoryScopeV1, options: MemoryOptions) {
    if (scope.tenant === '') throw new KeelError('config-invalid', 'memory needs a tenant');
    this.scope = scope;
    this.store = options.store;
    this.#subjectKeys = options.subjectKeys ?? (options.store as Partial<StoreV1>).subjectKeys;
    this.#counter = options.counter ?? textTokenCounter('sim', 'memory');
    this.#now = options.now ?? (() => new Date());
  }

  /** Every entry, oldest first, sealed texts opened (or marked redacted). */
  async entries(): Promise<MemoryEntry[]> {
    return (await this.#read()).map((read) => read.entry);
  }

  /** Each entry as read, with the subjects its stored text was sealed under. */
  async #read(): Promise<{ entry: MemoryEntry; sealedUnder: string[] }[]> {
    const stored = await this.store.readMemory(this.scope);
    const opened = await openMemoryTexts(this.#subjectKeys, stored.map((entry) => entry.text));
    return stored.map((entry, index) => ({ entry: { ...entry, ...(opened[index] ?? { text: entry.text }) }, sealedUnder: sealedMemorySubjects(entry.text) }));
  }

  /** The entry to store: its text sealed when its labels name subjects of personal or confidential data. */
  async #stored(entry: NewMemoryEntryV1, sealUnder: readonly string[]): Promise<NewMemoryEntryV1> {
    const subjects = [...new Set([...memorySubjectsToSeal(entry.labels), ...sealUnder])].sort();
    const text = subjects.length === 0 ? entry.text : await sealMemoryText(this.#subjectKeys, entry.text, subjects);
    return { ...entry, text, contentHash: contentHash(text) };
  }

  /** The memory as context items, oldest first, for a `memory` or `history` section. */
  async items(): Promise<ContextItem[]> {
    const now = this.#now();
    return (await this.entries()).map((entry) => toContextItem(entry, now));
  }

  /** Appends an entry; returns it as stored, with its text as given. */
  async remember(text: string, options: RememberOptions = {}): Promise<MemoryEntry> {
    const entry = await this.#stored(
      {
        scope: this.scope,
        role: options.role ?? 'user',
        text,
        labels: options.labels ?? {},
        createdAt: this.#now().toISOString(),
        source: options.source ?? { runId: null, step: null },
        contentHash: contentHash(text),
      },
      [],
    );
    return { ...(await this.store.appendMemory(entry)), text };
  }

  /** Tokens the entries take as context items (text plus framing). */
  tokensOf(entries: readonly MemoryEntryV1[]): number {
    return entries.reduce((total, entry) => total + perItemTokens + this.#counter.count(entry.text), 0);
  }

  /**
   * When the memory is over `budgetTokens`, replaces its oldest entries (all but `keepLast`) by one
   * summary written by `summarise` — which should make an ordinary journaled model call
   * (`context.model(...)`). The replacement is atomic and records the entries it replaced.
   * Returns the summary, or undefined when the memory was within budget or too short to summarise.
   */
  async summariseIfOver(
    budgetTokens: number,
    summarise: (entries: MemoryEntry[]) => Promise<SummaryResult>,
    options: SummariseOptions = {},
  ): Promise<MemoryEntry | undefined> {
    const read = await this.#read();
    const entries = read.map((each) => each.entry);
    if (this.tokensOf(entries) <= budgetTokens) return undefined;
    const keepLast = Math.max(0, options.keepLast ?? 1);
    const older = entries.slice(0, Math.max(0, entries.length - keepLast));
    const last = older.at(-1);
    // One entry that is already a summary cannot be made shorter by summarising it alone.
    if (last === undefined || (older.length === 1 && last.role === 'summary')) return undefined;
    const result = await summarise(older);
    const text = typeof result === 'string' ? result : result.text;
    const source = typeof result === 'string' ? (options.source ?? { runId: null, step: null }) : result.source;
    // The summary may repeat anything it summarised: it is sealed under every subject whose entry
    // the summariser could read (a redacted entry gave it only the marker), and labelled so.
    const inherited = read.slice(0, older.length).flatMap((each) => (each.entry.redacted === undefined && each.entry.unreadable === undefined ? each.sealedUnder : []));
    const labels = summaryLabels(options.labels ?? {}, inherited);
    const summary = await this.#stored({ scope: this.scope, role: 'summary', text, labels, createdAt: this.#now().toISOString(), source, contentHash: contentHash(text) }, inherited);
    return { ...(await this.store.replaceMemory(this.scope, { upToSeq: last.seq, summary })), text };
  }
}

/** A summary's labels: the given ones, naming too the subjects of the entries it summarised. */
function summaryLabels(given: { [key: string]: string }, inherited: readonly string[]): { [key: string]: string } {
  if (inherited.length === 0) return given;
  const subjects = [...new Set([...memoryLabelSubjects(given), ...inherited])].sort();
  const classification = given.classification === 'personal' || given.classification === 'confidential' ? given.classification : 'personal';
  return { ...given, classification, subjects: subjects.join(',') };
}

/** Conversation memory of one session. */
export class SessionMemory extends ScopedMemory {
  constructor(options: MemoryOptions & { tenant: string; sessionId: string }) {
    super({ kind: 'session', tenant: options.tenant, sessionId: options.sessionId }, options);
  }
}

/** What is remembered about one principal of one tenant, across sessions. */
export class LongTermMemory extends ScopedMemory {
  constructor(options: MemoryOptions & { tenant: string; principal: string }) {
    super({ kind: 'long-term', tenant: options.tenant, principal: options.principal }, options);
  }
}

/**
 * State one agent passes to another: agent A `write`s, agent B (another run, maybe another
 * process) `read`s the latest state. Every write is kept, with the run and step that made it.
 */
export class Handoff extends ScopedMemory {
  constructor(options: MemoryOptions & { tenant: string; handoffId: string }) {
    super({ kind: 'handoff', tenant: options.tenant, handoffId: options.handoffId }, options);
  }

  write(state: JsonValue, options: Omit<RememberOptions, 'role'> = {}): Promise<MemoryEntry> {
    return this.remember(JSON.stringify(state), { ...options, role: 'state' });
  }

  /**
   * The latest state written, with who wrote it; undefined when nothing has been handed off. A
   * redacted state reads as the redacted marker (`{"$redacted": {subjects, at}}`), as a redacted
   * journal field does; an unreadable one as null.
   */
  async read(): Promise<{ state: JsonValue; entry: MemoryEntry } | undefined> {
    const entry = (await this.entries()).filter((candidate) => candidate.role === 'state').at(-1);
    if (entry === undefined) return undefined;
    if (entry.redacted !== undefined) return { state: { $redacted: { subjects: entry.redacted.subjects, at: entry.redacted.at } }, entry };
    if (entry.unreadable === true) return { state: null, entry };
    return { state: JSON.parse(entry.text) as JsonValue, entry };
  }
}

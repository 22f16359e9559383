/**
 * Context specification, version 1: what a task declares as its context and what assembly journals
 * about it. Types only. Every type here is a plain JSON shape (type aliases, not interfaces, so a
 * manifest is assignable to the journal's JsonValue without a cast). Adding an optional field is
 * backwards compatible; changing the meaning of one needs `manifestVersion: 2`, because manifests
 * are read back months later to explain what a model saw.
 */
import type { ClassificationV1, LabelsV1, MessageV1, OriginV1 } from '../spec/index.ts';

export type DataClassification = ClassificationV1;

/** Where text came from, for information-flow decisions: untrusted text is data, never instructions. */
export type DataOrigin = OriginV1;

/** The one labels model (src/spec/labels-v1.ts), which access and information flow decide on. */
export type ContextLabels = LabelsV1;

export type ContextRole = 'system' | 'user' | 'assistant' | 'tool';

export type ContextItemMeta = {
  /** How old the content is, in milliseconds, measured by whoever produced the item (never by assembly). */
  ageMs?: number;
  /** Relevance, higher is better; what `drop-lowest-score` drops by. */
  score?: number;
  /** Required for `role: 'tool'`: the call this result answers. */
  toolCallId?: string;
  toolName?: string;
};

export type ContextItem = {
  /** Where the item came from: `template`, `folder:docs`, `memory`, `history`, … */
  source: string;
  /** Stable within its source. */
  id: string;
  version: string;
  text: string;
  labels: ContextLabels;
  /** Defaults by section kind: instructions → system, history → user, anything else → user. */
  role?: ContextRole;
  meta?: ContextItemMeta;
};

export type SectionKind = 'instructions' | 'retrieval' | 'memory' | 'history' | 'tool-state' | 'documents';

/**
 * How a section is cut when it is over its budget (or when the window needs its tokens):
 * - `drop-lowest-score`: drop items by ascending score until it fits;
 * - `drop-oldest`: drop items by descending age until it fits (an item of unknown age counts as oldest);
 * - `truncate-tail`: keep items in order, cut the text of the first that does not fit at its end, drop the rest;
 * - `truncate-head`: the mirror image: keep the newest/last items, cut the first kept one at its start;
 * - `summarise-then-drop`: replace the oldest items by the section's precomputed `summary`, then drop oldest;
 * - `never`: the section fits whole or assembly fails naming it.
 */
export type TruncationRule = 'drop-lowest-score' | 'drop-oldest' | 'truncate-tail' | 'truncate-head' | 'summarise-then-drop' | 'never';

export type ContextSection = {
  /** Unique within one assembly. */
  name: string;
  kind: SectionKind;
  /** Higher is kept first when the window is short. */
  priority: number;
  /** Budget for the section, including each item's message framing (4 tokens an item). */
  maxTokens: number;
  truncation: TruncationRule;
  items: ContextItem[];
  /**
   * Where the section goes in the prompt, lowest first (default 0); ties by priority desc, then name.
   * Separate from priority because the most important text (the user's question) usually goes last.
   */
  position?: number;
  /**
   * For `summarise-then-drop`: a summary of the section's items, made before assembly (by a
   * journaled model step), because assembly itself is synchronous and must not call a model.
   */
  summary?: ContextItem;
};

export type PromptTemplate = {
  id: string;
  version: string;
  /** `{{variable}}` placeholders; whitespace inside the braces is allowed. */
  text: string;
};

export type ContextTarget = {
  provider: string;
  modelId: string;
  /** The model's context window in tokens (input plus output). */
  contextWindow: number;
};

/** Counts tokens of one text. Built-ins use the target model's real tokenizer where one exists. */
export type TextTokenizer = {
  readonly name: string;
  /** True when counts are a labelled estimate rather than the model's own tokenizer. */
  readonly estimated: boolean;
  readonly count: (text: string) => number;
  /** With both, truncation cuts on token boundaries; without, it searches on character positions. */
  readonly encode?: (text: string) => number[];
  readonly decode?: (tokens: number[]) => string;
};

export type RetrievalSignalKind = 'stale-result' | 'empty-retrieval' | 'low-coverage' | 'retriever-down';

/** Something about the context worth a look that is not an error: journaled, never silent. */
export type ContextSignal = {
  kind: RetrievalSignalKind;
  detail: string;
  retriever?: string;
  documentId?: string;
  version?: string;
  ageMs?: number;
  coverage?: number;
};

export type AssembleContextInput = {
  sections: ContextSection[];
  target: ContextTarget;
  /** Tokens kept free for the model's answer. */
  reserveForOutput: number;
  /** Overrides the target's built-in tokenizer (a custom or local model's, say). */
  tokenizer?: TextTokenizer;
  /** Signals from retrieval for this assembly, carried into the manifest so one event holds both. */
  signals?: ContextSignal[];
};

export type AssembledContext = {
  messages: MessageV1[];
  manifest: ContextManifest;
};

export type BudgetPhase = 'section' | 'window';

/**
 * An item's labels as a manifest records them: one tenant or origin as `tenant` / `origin` (the
 * form manifests have always had), several as `tenants` / `origins` (sorted), none left out.
 */
export type ManifestLabels = {
  classification?: DataClassification;
  origin?: DataOrigin;
  origins?: DataOrigin[];
  tenant?: string;
  tenants?: string[];
};

export type ManifestItem = {
  section: string;
  source: string;
  id: string;
  version: string;
  role: ContextRole;
  /** sha256 of the exact text sent, after any truncation. */
  contentHash: string;
  /** Tokens of the item's message content, as Keel's prompt counter counts them. */
  tokens: number;
  labels: ManifestLabels;
  /** Set when the text sent is a cut of the item's text. */
  truncated?: 'tail' | 'head';
  /** Set for a section's summary standing in for dropped items. */
  summary?: true;
  ageMs?: number;
  score?: number;
};

export type DropReason = 'over-section-budget' | 'over-window' | 'summarised';

export type ManifestDrop = {
  section: string;
  source: string;
  id: string;
  version: string;
  contentHash: string;
  tokens: number;
  reason: DropReason;
};

export type ManifestTruncation = {
  section: string;
  source: string;
  id: string;
  version: string;
  reason: 'truncated-tail' | 'truncated-head';
  budget: BudgetPhase;
  originalContentHash: string;
  originalTokens: number;
  keptContentHash: string;
  keptTokens: number;
};

export type ManifestSection = {
  name: string;
  kind: SectionKind;
  priority: number;
  position: number;
  maxTokens: number;
  truncation: TruncationRule;
  /** Including framing, before any cut. */
  candidateTokens: number;
  /** Including framing, as sent. */
  keptTokens: number;
  candidateItems: number;
  keptItems: number;
};

export type ContextManifest = {
  manifestVersion: 1;
  target: ContextTarget;
  tokenizer: { name: string; estimated: boolean };
  budget: {
    contextWindow: number;
    reserveForOutput: number;
    /** contextWindow − reserveForOutput: what the prompt may use. */
    available: number;
    /** Counted once per prompt and once per item (message), as Keel's prompt counter does. */
    framing: { perPrompt: number; perItem: number };
  };
  totals: {
    /** What the prompt costs: equals Keel's prompt counter on the assembled messages. */
    promptTokens: number;
    candidateTokens: number;
    candidateItems: number;
    keptItems: number;
    droppedItems: number;
    truncatedItems: number;
  };
  /** In prompt order. */
  sections: ManifestSection[];
  /** In prompt order, one a message. */
  items: ManifestItem[];
  dropped: ManifestDrop[];
  truncated: ManifestTruncation[];
  /** Every label value present in what was sent, sorted: what access and information flow check. */
  labels: { tenants: string[]; classifications: DataClassification[]; origins: DataOrigin[] };
  signals: ContextSignal[];
  /** sha256 of the canonical JSON of every other field. */
  manifestHash: string;
};

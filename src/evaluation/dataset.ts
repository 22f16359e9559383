/**
 * Datasets pinned from the journal: a query over recorded runs (task, statuses, time window,
 * labels, limit) is turned into items, each a copy of what the journal holds (the run's input, how
 * it ended, its tool calls, what it cost; or one model decision of it), and the items are pinned
 * under the SHA-256 of their canonical JSON. Items are copied from the journal as stored: a value
 * the journal holds redacted is pinned, and exported, redacted; nothing is read from anywhere else.
 */
import { KeelError } from '../errors/index.ts';
import type { RunState } from '../journal/index.ts';
import { canonicalJson, expandModelRequest, loadRun, sha256 } from '../journal/index.ts';
import type { DatasetRecordV1, DatasetStoreV1, JsonValue, RunRecordV1, RunStatusV1, StoreV1 } from '../spec/index.ts';
import type { HumanLabel } from './human-labels.ts';
import { readHumanLabels } from './human-labels.ts';
import { openSealedValue } from '../redaction/index.ts';

export type DatasetItemKind = 'run' | 'model-call' | 'tool-call';

/** How a dataset's items were chosen; stored with it. */
export interface DatasetDefinition {
  task: string;
  kind: DatasetItemKind;
  /** Run statuses taken; default every end state. */
  statuses: RunStatusV1[];
  /** Runs created at or after this time (ISO), from `--since 30d`; null: any time. */
  since: string | null;
  /** `label=good|bad|any|none`, `tenant=T`, `principal=P`. */
  where: Record<string, string>;
  /** The newest N runs that match; null: all. */
  limit: number | null;
}

/** What the recorded run did: the reference a candidate is scored against. */
export interface RecordedAnswer {
  status: string;
  output: JsonValue;
  toolCalls: { name: string; args: JsonValue }[];
  tokens: number;
  costMicros: number;
  latencyMs: number;
}

export interface DatasetItem {
  /** The run id, or `RUN#STEP` for one model decision of it. */
  id: string;
  kind: DatasetItemKind;
  run: string;
  step: number | null;
  task: string;
  taskVersion: string;
  /** The hash of the run's last journal event when pinned: replay refuses a journal that moved on. */
  journalHash: string;
  /** Items of one cluster are resampled together: the run's `session` (a conversation), else the run. */
  cluster: string;
  /** The run's input, or the model request of the decision. */
  input: JsonValue;
  reference: RecordedAnswer;
  /** The model's recorded answer, for model-call and tool-call items. */
  response: JsonValue;
  /** The run's last model call, request and answer (run items): what a chat fine-tuning line is made of. */
  conversation: { request: JsonValue; response: JsonValue } | null;
  label: HumanLabel | null;
}

export const endStatuses: RunStatusV1[] = ['ok', 'degraded', 'escalated', 'failed'];
const allStatuses: RunStatusV1[] = ['queued', 'running', 'waiting', ...endStatuses];
const datasetNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export function checkDatasetName(name: string): string {
  if (!datasetNamePattern.test(name)) throw new KeelError('usage-invalid', `dataset name '${name}' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}

/** `30d`, `12h`, `45m` → milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d{1,6})([dhm])$/.exec(text);
  if (match === null) throw new KeelError('usage-invalid', `--since takes a duration like 30d, 12h or 45m, got '${text}'`);
  const unit = match[2] === 'd' ? 86_400_000 : match[2] === 'h' ? 3_600_000 : 60_000;
  return Number(match[1]) * unit;
}

export function parseStatuses(text: string | undefined): RunStatusV1[] {
  if (text === undefined) return [...endStatuses];
  const statuses = text.split(',').map((part) => part.trim());
  for (const status of statuses) {
    if (!(allStatuses as string[]).includes(status)) throw new KeelError('usage-invalid', `--status takes ${allStatuses.join(', ')} (comma-separated), got '${status}'`);
  }
  return statuses as RunStatusV1[];
}

const whereKeys = ['label', 'tenant', 'principal'];

/** `label=good,tenant=acme` → { label: 'good', tenant: 'acme' }. */
export function parseWhere(text: string | undefined): Record<string, string> {
  const where: Record<string, string> = {};
  if (text === undefined) return where;
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    const key = at === -1 ? part : part.slice(0, at);
    const value = at === -1 ? '' : part.slice(at + 1);
    if (!whereKeys.includes(key) || value === '') throw new KeelError('usage-invalid', `--where takes KEY=VALUE pairs with KEY one of ${whereKeys.join(', ')} (e.g. label=good), got '${part}'`);
    if (key === 'label' && !['good', 'bad', 'any', 'none'].includes(value)) throw new KeelError('usage-invalid', `--where label= takes good, bad, any or none, got '${value}'`);
    where[key] = value;
  }
  return where;
}

export function parseKind(text: string | undefined): DatasetItemKind {
  if (text === undefined) return 'run';
  if (text !== 'run' && text !== 'model-call' && text !== 'tool-call') throw new KeelError('usage-invalid', `--kind takes run, model-call or tool-call, got '${text}'`);
  return text;
}

function matchesLabel(label: HumanLabel | undefined, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  if (wanted === 'none') return label === undefined;
  if (label === undefined) return false;
  if (wanted === 'any') return true;
  return wanted === 'good' ? label.score >= 0.5 : label.score < 0.5;
}

/** Runs of the definition, newest first, up to its limit. */
async function selectRuns(store: StoreV1, definition: DatasetDefinition, labels: Map<string, HumanLabel>): Promise<RunRecordV1[]> {
  const chosen: RunRecordV1[] = [];
  let after: RunRecordV1 | undefined;
  for (;;) {
    const page = await store.listRuns({ task: definition.task, statuses: definition.statuses, limit: 500, ...(after === undefined ? {} : { after }) });
    for (const run of page) {
      if (definition.since !== null && run.createdAt < definition.since) return chosen;
      if (definition.where.tenant !== undefined && run.tenant !== definition.where.tenant) continue;
      if (definition.where.principal !== undefined && run.principal !== definition.where.principal) continue;
      if (!matchesLabel(labels.get(run.id), definition.where.label)) continue;
      chosen.push(run);
      if (definition.limit !== null && chosen.length >= definition.limit) return chosen;
    }
    if (page.length < 500) return chosen;
    after = page.at(-1);
  }
}

function clusterOf(state: RunState): string {
  const input = state.input;
  const session = input !== null && typeof input === 'object' && !Array.isArray(input) ? input.session : undefined;
  return typeof session === 'string' ? `session:${session}` : state.runId;
}

/** What the recorded run did, read from its folded journal. */
export function recordedAnswer(state: RunState): RecordedAnswer {
  const steps = [...state.steps.values()].sort((left, right) => left.step - right.step);
  return {
    status: state.status,
    output: state.end?.output ?? null,
    toolCalls: steps.filter((step) => step.kind === 'tool-call').map((step) => ({ name: step.name, args: step.input ?? null })),
    tokens: state.usage.inputTokens + state.usage.outputTokens,
    costMicros: state.costMicros,
    latencyMs: Math.max(0, Date.parse(state.updatedAt) - Date.parse(state.startedAt)),
  };
}

function modelStepItems(state: RunState, base: Omit<DatasetItem, 'id' | 'kind' | 'step' | 'input' | 'response' | 'conversation'>, kind: 'model-call' | 'tool-call'): DatasetItem[] {
  const items: DatasetItem[] = [];
  for (const step of [...state.steps.values()].sort((left, right) => left.step - right.step)) {
    if (step.kind !== 'model-call' || step.end?.outcome.ok !== true) continue;
    const response = step.end.outcome.value;
    const content = response !== null && typeof response === 'object' && !Array.isArray(response) && Array.isArray(response.content) ? response.content : [];
    const calls = content.filter((part) => part !== null && typeof part === 'object' && !Array.isArray(part) && part.type === 'tool-call');
    if (kind === 'tool-call' && calls.length === 0) continue;
    const request = expandModelRequest(state, step.step) ?? null;
    items.push({ ...base, id: `${state.runId}#${step.step}`, kind, step: step.step, input: request, response, conversation: null });
  }
  return items;
}

function lastConversation(state: RunState): DatasetItem['conversation'] {
  const last = [...state.steps.values()].filter((step) => step.kind === 'model-call' && step.end?.outcome.ok === true).sort((left, right) => right.step - left.step)[0];
  if (last?.end?.outcome.ok !== true) return null;
  return { request: (expandModelRequest(state, last.step) ?? null) as JsonValue, response: last.end.outcome.value };
}

export interface CreateDatasetRequest {
  name: string;
  definition: DatasetDefinition;
  /** Default now. */
  createdAt?: string;
}

/** Selects the runs, builds the items and pins them. Fails with `dataset-exists` for a taken name. */
export async function createDataset(store: StoreV1, request: CreateDatasetRequest): Promise<DatasetRecordV1> {
  const datasets = datasetStoreOf(store);
  checkDatasetName(request.name);
  if ((await datasets.getDataset(request.name)) !== undefined) throw new KeelError('dataset-exists', `dataset ${request.name} already exists; a pinned dataset is never replaced, so choose another name`);
  const labels = await readHumanLabels(store);
  const runs = await selectRuns(store, request.definition, labels);
  const items: DatasetItem[] = [];
  // Oldest first, so a dataset reads in the order its runs happened.
  for (const run of runs.toReversed()) {
    const { state } = await loadRun(store, run.id);
    const base = {
      run: state.runId,
      task: state.task,
      taskVersion: state.taskVersion,
      journalHash: state.lastHash,
      cluster: clusterOf(state),
      reference: recordedAnswer(state),
      label: labels.get(state.runId) ?? null,
    };
    if (request.definition.kind === 'run') items.push({ ...base, id: state.runId, kind: 'run', step: null, input: state.input, response: null, conversation: lastConversation(state) });
    else items.push(...modelStepItems(state, base, request.definition.kind));
  }
  if (items.length === 0) throw new KeelError('usage-invalid', `no recorded ${request.definition.kind === 'run' ? 'runs' : 'decisions'} of task ${request.definition.task} match; nothing to pin`);
  const pinnedItems = items as unknown as JsonValue[];
  const record: DatasetRecordV1 = {
    name: request.name,
    contentHash: sha256(canonicalJson(pinnedItems)),
    definition: request.definition as unknown as JsonValue,
    items: pinnedItems,
    createdAt: request.createdAt ?? new Date().toISOString(),
  };
  await datasets.createDataset(record);
  return record;
}

export function datasetStoreOf(store: StoreV1): DatasetStoreV1 {
  if (store.datasets === undefined) throw new KeelError('config-invalid', `the store at ${store.location} keeps no datasets`);
  return store.datasets;
}

/** The dataset and its items, checked against its content hash. */
export async function readDataset(store: StoreV1, name: string): Promise<{ record: DatasetRecordV1; items: DatasetItem[] }> {
  const record = await datasetStoreOf(store).getDataset(name);
  if (record === undefined) throw new KeelError('dataset-not-found', `no dataset named ${name} in ${store.location} (keel dataset list shows them)`);
  const hash = sha256(canonicalJson(record.items));
  if (hash !== record.contentHash) throw new KeelError('journal-invalid', `dataset ${name} does not match its content hash (${record.contentHash.slice(0, 12)}… pinned, ${hash.slice(0, 12)}… now)`);
  // Checked on the pinned form, sealed fields and all; used opened, or marked redacted (src/redaction).
  return { record, items: (await openSealedValue(store, record.items)) as unknown as DatasetItem[] };
}

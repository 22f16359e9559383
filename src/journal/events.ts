/**
 * The journal's event vocabulary, schema version 1: one discriminated union. Names are noun-verb.
 * Adding a field is backwards compatible; changing the meaning of one needs a new schema version
 * and a reader for the old one, because journals are replayed months after they were written.
 */
import type { ErrorData } from '../errors/index.ts';
import type { ConfidenceMarkerV1, JsonValue, RunStatusV1 } from '../spec/index.ts';

export const journalSchemaVersion = 1;

export type TerminalStatus = 'ok' | 'degraded' | 'escalated' | 'failed';

export type StepKind = 'step' | 'model-call' | 'tool-call' | 'approval';

/** What an `alert-raise` is about: governance thresholds, a provider's model update, each fault class a run can show, a quality drop. */
export type AlertKind =
  | 'budget-threshold'
  | 'latency-sla'
  | 'model-version-change'
  | 'model-change-regression'
  | 'model-change-verdict'
  | 'quality-drop'
  | 'provider-timeout'
  | 'rate-limit-storm'
  | 'stream-cut'
  | 'malformed-output'
  | 'schema-drift'
  | 'retrieval-down'
  | 'tool-down'
  | 'budget-exhausted'
  | 'compromised-model'
  | 'store-unavailable';

/** How sure the run is of one part of its output; any marker makes the run end `degraded`. */
export type ConfidenceMarker = ConfidenceMarkerV1;

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type StepOutcome = { ok: true; value: JsonValue } | { ok: false; error: ErrorData };

export interface EventData {
  'run-start': {
    task: string;
    taskVersion: string;
    input: JsonValue;
    principal: string;
    tenant: string;
    /** sha256 of the canonical task configuration this run executes under. */
    configHash: string;
    config: JsonValue;
    /** What the run was tagged with (RunRecordV1.tags), kept in its index too; absent when none. */
    tags?: Record<string, string>;
  };
  /** A worker began (or took over) executing the run. */
  'run-resume': {
    worker: string;
    /** 1 for the first execution; higher after a crash, a takeover or a restart. */
    attempt: number;
    /** What the journal showed when this worker picked the run up. */
    found: 'new' | 'interrupted';
  };
  'step-start': {
    step: number;
    name: string;
    kind: StepKind;
    idempotent: boolean;
    attempt: number;
    epoch: number;
    input?: JsonValue;
    /** For side-effecting tools: the key the downstream system deduplicates on. */
    idempotencyKey?: string;
  };
  'step-end': {
    step: number;
    name: string;
    kind: StepKind;
    epoch: number;
    durationMs: number;
    outcome: StepOutcome;
    usage?: Usage;
    /** What the step spent, in integer micro-USD, and the price table that priced it. */
    cost?: { micros: number; priceVersion: string };
  };
  /** Which model a governed model call chose, and why. */
  'route-decision': {
    step: number;
    route: string;
    provider: string;
    modelId: string;
    reason: string;
    estimatedInputTokens: number;
    /** True when the count is an estimate (no tokenizer for that model). */
    estimated: boolean;
  };
  /** A budget reservation or refusal before a call is sent. */
  'budget-decision': {
    step: number;
    provider: string;
    modelId: string;
    outcome: 'reserved' | 'refused';
    /** Worst case reserved: prompt tokens plus max output, priced. */
    reservedMicros: number;
    reservedTokens: number;
    /**
     * The id the budget book holds a reservation under, when it holds one (the call fell under at
     * least one budget scope): whoever ends the call for a dead process settles it by this id.
     * Absent from refusals and from journals written before it was added.
     */
    reservationId?: string;
    /** The scope that refused, when one did (e.g. `tenant:acme:day:2026-11-21`). */
    scope?: string;
    reason?: string;
  };
  /**
   * A budget reservation of the run that its journal did not bill, billed by whoever took the run
   * over after the process that made it died (src/engine/left-reservations.ts): its model call never
   * ended in the journal, or its `budget-decision` never reached it. Its cost counts in the run's
   * like a step's; it is what the budget book booked for the reservation, which was settled before
   * this was built (a hold at its full amount, unless someone settled it first).
   */
  'reservation-bill': {
    reservationId: string;
    /** The step whose budget decision named the reservation, when one reached the journal. */
    step?: number;
    /** `provider:modelId` of that decision, and the route its step's route decision named: for metrics and readers, when journaled. */
    model?: string;
    route?: string;
    /** `reservation`: the book still held it, settled and billed in full; `settlement`: what its process (dead, or alive past its lease) settled it at. */
    from: 'reservation' | 'settlement';
    cost: { micros: number; priceVersion: string };
    tokens: number;
    reason: string;
  };
  /** One attempt at one provider call, successful or not. */
  'model-attempt-end': {
    step: number;
    attempt: number;
    provider: string;
    modelId: string;
    latencyMs: number;
    outcome: 'ok' | 'error';
    error?: ErrorData;
    usage?: Usage;
    responseId?: string;
    /** The model the provider says answered (OpenAI's and Anthropic's response `model`: a dated version). */
    responseModel?: string;
    /** OpenAI's `system_fingerprint`: the backend configuration that answered. */
    systemFingerprint?: string;
  };
  /** A pause before the next attempt. */
  'retry-wait': {
    step: number;
    attempt: number;
    waitMs: number;
    /** `retry-after` when the provider asked for the wait, `backoff` otherwise, `rate-limit` for the route's own per-tenant limit (before attempt 1). */
    reason: 'retry-after' | 'backoff' | 'rate-limit';
  };
  'breaker-transition': {
    step: number;
    breaker: string;
    from: 'closed' | 'open' | 'half-open' | 'isolated';
    to: 'closed' | 'open' | 'half-open' | 'isolated';
  };
  /** The call moved on to the next model in its chain. */
  'model-fallback': {
    step: number;
    from: string;
    to: string;
    reason: string;
  };
  /**
   * Something someone must hear about: a budget threshold or latency SLA crossed, a provider's model
   * version changed, a fault class seen in a run (src/monitor), a pass-rate drop; hooks were called.
   */
  'alert-raise': {
    kind: AlertKind;
    scope: string;
    message: string;
    threshold: number;
    value: number;
    /** The run the alert is about, when it is raised in another run (a monitor's or a drill's). */
    about?: string;
  };
  /** An output was checked against its contract (one event per check, repairs included). */
  'output-validation': {
    contract: string;
    version: string;
    attempt: number;
    ok: boolean;
    violations: { path: string; code: string; message: string }[];
    lowConfidence?: { field: string; value: number; minimum: number };
  };
  /** What went into a model's context: every item's source, version, hash, tokens and labels. */
  'context-assembly': {
    manifestHash: string;
    manifest: JsonValue;
  };
  /** Retrieval said something worth knowing: stale, empty, low coverage, or down. */
  'retrieval-signal': {
    kind: string;
    detail: string;
  };
  /** An access decision by the policy engine, and what a shadow policy set would have decided. */
  'policy-decision': {
    principal: string;
    action: string;
    resource: string;
    effect: 'allow' | 'deny' | 'require-approval' | 'not-applicable';
    policyIds: string[];
    reason: string;
    engine: string;
    policySetVersion: string;
    /** The tool call decided, for tool decisions. */
    tool?: string;
    /** The labels of the call's arguments (by provenance), for information-flow decisions. */
    labels?: JsonValue;
    /** Shadow mode: evaluated, journaled, never enforced. */
    shadow?: { effect: 'allow' | 'deny' | 'require-approval' | 'not-applicable'; policyIds: string[]; reason: string; policySetVersion: string; agrees: boolean };
  };
  /** A gateway request reached its run: who sent it (and with which key), for which model, under which trace. */
  'request-receive': {
    api: string;
    model: string;
    stream: boolean;
    principal: string;
    /** The virtual key's public id, when the request came with one. */
    key?: string;
    /** The W3C `traceparent` header the client sent, kept as sent. */
    traceparent?: string;
    /** The request's metadata (body `metadata`, Anthropic's `user_id`, header `keel-metadata`): the tags of the run it opened. */
    metadata?: Record<string, string>;
  };
  /** A failure contract decided what happens after a failure at one integration point. */
  'failure-decision': {
    point: string;
    kind: string;
    /** `missing`: the contract declared nothing for this kind, and the run fails. */
    action: string;
    detail: string;
  };
  /** A loop guard of the agent tripped: too many turns, too many calls to one tool, the same call repeated. */
  'loop-guard': {
    guard: 'max-turns' | 'max-calls-per-tool' | 'identical-calls';
    limit: number;
    tool?: string;
    /** `told-model`: the call was refused and the model told why; `escalated`: the run went to a person. */
    action: 'told-model' | 'escalated';
    detail: string;
  };
  /** The run needs a person's decision; it waits, durably, until one is recorded. */
  'approval-request': {
    step: number;
    /** What `keel approve` / `keel deny` name: `RUN:STEP`. */
    id: string;
    reason: string;
    details: JsonValue;
  };
  /** A person decided: approved or denied a request, or stopped the run. */
  'human-decision': {
    decision: 'approve' | 'deny' | 'stop';
    decider: string;
    reason?: string;
    /** The approval request decided, for approve and deny. */
    requestId?: string;
    step?: number;
  };
  /** The simulator injected a fault into this call (drills and tests). */
  'fault-injection': {
    step: number;
    fault: JsonValue;
    call: number;
  };
  /**
   * A span of a framework's own trace ended (keel/openai-agents' trace processor): what the
   * framework did (its agent turns, tool calls, guardrails, handoffs) beside the run's steps.
   */
  'span-end': {
    /** The framework that traced it: `openai-agents`. */
    source: string;
    traceId: string;
    spanId: string;
    parentId?: string;
    /** The framework's span type: `agent`, `generation`, `function`, `guardrail`, `handoff`, `custom`, … */
    kind: string;
    name: string;
    startedAt?: string;
    endedAt?: string;
    error?: { message: string; data?: JsonValue };
    /** The span's own data, less the prompts and answers the run's model steps journal already. */
    data: JsonValue;
  };
  /**
   * Scores of one evaluated item: an evaluation's scorers on the candidate and the baseline
   * (`keel eval run`), or a person's label of a recorded run (`keel label`). Journaled in the
   * scoring run, never in the run scored, so a scored run's journal is never rewritten.
   */
  'score-record': {
    /** The item: a recorded run's id (or `RUN#STEP` for one decision of it). */
    item: string;
    /** The recorded run the item comes from. */
    run: string;
    /** What the item is resampled with (a conversation, a source document); the run when alone. */
    cluster: string;
    source: 'evaluation' | 'human';
    scores: { scorer: string; version: string; subject: 'candidate' | 'baseline' | 'recorded'; score: number; detail?: string }[];
    /** A person's label: who gave it and what they noted. */
    by?: string;
    note?: string;
  };
  checkpoint: {
    label: string;
    /** The last step index covered by this checkpoint. */
    afterStep: number;
    epoch: number;
    stateHash: string;
    state: JsonValue;
    verified: boolean;
    /** Why verification failed, when it did. */
    problem?: string;
  };
  /** The run returned to a verified checkpoint; steps after it are void and run again. */
  rollback: {
    checkpointSeq: number;
    label: string;
    afterStep: number;
    /** The epoch that starts here (incremented on each rollback). */
    epoch: number;
    reason: string;
  };
  'run-end': {
    status: TerminalStatus;
    reason?: string;
    output?: JsonValue;
    error?: ErrorData;
    confidence?: ConfidenceMarker[];
  };
}

export type EventType = keyof EventData;

/**
 * The step a gateway run records its response-cache lookup as (src/gateway/response-cache.ts):
 * its outcome is `{ hit: false }` or `{ hit: true, fromRun, ageMs, answer }`. Named here, in the
 * journal's vocabulary, because metrics count its outcomes too.
 */
export const responseCacheStep = 'response-cache';

export const eventTypes: readonly EventType[] = [
  'run-start',
  'run-resume',
  'step-start',
  'step-end',
  'route-decision',
  'budget-decision',
  'reservation-bill',
  'model-attempt-end',
  'retry-wait',
  'breaker-transition',
  'model-fallback',
  'alert-raise',
  'fault-injection',
  'output-validation',
  'context-assembly',
  'retrieval-signal',
  'policy-decision',
  'request-receive',
  'failure-decision',
  'loop-guard',
  'span-end',
  'approval-request',
  'human-decision',
  'score-record',
  'checkpoint',
  'rollback',
  'run-end',
];

/** Decisions a task records between steps (validations, context manifests, retrieval signals). */
export type RunDetailType = 'output-validation' | 'context-assembly' | 'retrieval-signal' | 'policy-decision' | 'request-receive' | 'failure-decision' | 'loop-guard' | 'span-end' | 'score-record';

/** Events a step may record while it runs, between its start and its end. */
export type StepDetailType = 'route-decision' | 'budget-decision' | 'model-attempt-end' | 'retry-wait' | 'breaker-transition' | 'model-fallback' | 'alert-raise' | 'fault-injection';

interface EventEnvelope {
  runId: string;
  seq: number;
  time: string;
  schemaVersion: number;
  prevHash: string;
  hash: string;
}

export type JournalEvent = { [Type in EventType]: EventEnvelope & { type: Type; data: EventData[Type] } }[EventType];

export type EventOf<Type extends EventType> = Extract<JournalEvent, { type: Type }>;

export function isTerminal(status: RunStatusV1): status is TerminalStatus {
  return status === 'ok' || status === 'degraded' || status === 'escalated' || status === 'failed';
}

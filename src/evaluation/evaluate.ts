/**
 * An evaluation is itself a Keel run, of task `eval:<dataset>`: each item is replayed against the
 * candidate (and, when asked, the baseline model) in an idempotent step, tool calls answered from
 * the item's journal so no side effect runs again, and its scores are journaled as a
 * `score-record`; the judge's calls are model steps of the run, through the governed route. The
 * run's output is the verdict. Scores are therefore hash-chained and anchored in the audit log
 * like everything else, and `keel show` reads them back.
 */
import type { AgentRuntime } from '../agent/index.ts';
import { defineTask, replayWithCandidate } from '../engine/index.ts';
import type { RunContext, TaskCatalog, TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { canonicalJson, loadRun } from '../journal/index.ts';
import type { SimulatorScript } from '../models/index.ts';
import { canSeal, findEnvelopes, findRedactedMarkers, openSealedFieldsIn } from '../redaction/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, JsonValue, LanguageModelV1, StoreV1 } from '../spec/index.ts';
import type { DatasetItem, RecordedAnswer } from './dataset.ts';
import { readDataset } from './dataset.ts';
import type { Agreement, Rubric } from './judge.ts';
import { judgeAgreement, judgeRequest, judgeScript, readJudgeAnswer } from './judge.ts';
import type { PairedScore, VerdictReport } from './paired-statistics.ts';
import { pairedVerdict } from './paired-statistics.ts';
import type { Answer } from './scorers.ts';
import { parseScorers } from './scorers.ts';

export const judgeScorerVersion = '1';

/** What an evaluation run is started with (its run-start input). */
export interface EvaluationInput {
  [key: string]: JsonValue;
  dataset: string;
  contentHash: string;
  candidate: string;
  /** `recorded` (the recorded runs' own answers) or a model re-run as the baseline. */
  baseline: string;
  /** The `--scorer` list; the first is the verdict's. */
  scorers: string;
  scorerVersions: { [name: string]: string };
  judge: { model: string; rubric: string; rubricVersion: string } | null;
  /** The simulator seed for `sim:` candidates (the demo's `--seed`). */
  seed: number;
  margin: number;
  effectOfInterest: number;
}

/** What one subject's model calls spent: integer micro-USD as the governed route priced them, and tokens. */
export interface SpendTotals {
  [key: string]: number;
  calls: number;
  micros: number;
  inputTokens: number;
  outputTokens: number;
}

export interface ItemResult {
  item: string;
  run: string;
  cluster: string;
  candidate: { [scorer: string]: number };
  baseline: { [scorer: string]: number };
  divergence: string | null;
  candidateStatus: string;
  candidateLatencyMs: number;
  candidateTokens: number;
  /** What the candidate's calls for this item spent (and the baseline's, when it was re-run). */
  candidateSpend: SpendTotals;
  baselineSpend: SpendTotals | null;
  label: number | null;
}

export interface EvaluationReport {
  [key: string]: JsonValue;
  evaluation: string;
  dataset: string;
  contentHash: string;
  candidate: string;
  baseline: string;
  primaryScorer: string;
  verdict: VerdictReport['verdict'];
  statistics: JsonValue;
  scorers: { [name: string]: { candidateMean: number; baselineMean: number } };
  divergences: number;
  judge: JsonValue;
  latencyMs: { candidateMean: number; baselineMean: number };
  tokens: { candidateMean: number; baselineMean: number };
  /**
   * What the evaluation spent, by whom: the candidate's calls, the baseline's when it was re-run
   * (null when the baseline is the recorded runs or an earlier evaluation), the judge's; `recorded`
   * is what the recorded runs cost when they ran (not spent again), for comparison.
   */
  costs: { candidate: SpendTotals; baseline: SpendTotals | null; judge: SpendTotals | null; recorded: { micros: number; tokens: number }; totalMicros: number };
  items: JsonValue;
}

export interface EvaluationServices {
  store: StoreV1;
  /** The tasks whose recorded runs are replayed. */
  tasks: TaskCatalog;
  /** The evaluation deployment's governed models (budgets, journaling). */
  runtime: AgentRuntime;
  /** What `sim:` candidates and baselines answer with: the recorded agent's simulator script. */
  candidateScript: SimulatorScript | undefined;
  rubric: Rubric;
  onProgress?: (done: number, total: number) => void;
}

export function evaluationTaskName(dataset: string): string {
  return `eval:${dataset}`;
}

function referenceOf(item: DatasetItem): RecordedAnswer {
  if (item.kind === 'run') return item.reference;
  return { ...item.reference, status: 'ok', output: responseSummary(item.response), toolCalls: toolCallsOf(item.response) };
}

function responseSummary(response: JsonValue): JsonValue {
  const content = response !== null && typeof response === 'object' && !Array.isArray(response) && Array.isArray(response.content) ? response.content : [];
  const text = content.map((part) => (part !== null && typeof part === 'object' && !Array.isArray(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
  return { text, toolCalls: toolCallsOf(response).map((call) => ({ name: call.name, args: call.args })) };
}

function toolCallsOf(response: JsonValue): { name: string; args: JsonValue }[] {
  const content = response !== null && typeof response === 'object' && !Array.isArray(response) && Array.isArray(response.content) ? response.content : [];
  return content.flatMap((part) =>
    part !== null && typeof part === 'object' && !Array.isArray(part) && part.type === 'tool-call' ? [{ name: typeof part.toolName === 'string' ? part.toolName : '', args: part.input ?? null }] : [],
  );
}

/** The item as scorers see it: decisions are scored against the recorded decision. */
function scoringItem(item: DatasetItem): DatasetItem {
  return item.kind === 'run' ? item : { ...item, reference: referenceOf(item) };
}

function noSpend(): SpendTotals {
  return { calls: 0, micros: 0, inputTokens: 0, outputTokens: 0 };
}

function addSpend(total: SpendTotals, more: SpendTotals): void {
  total.calls += more.calls;
  total.micros += more.micros;
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
}

/** What one governed answer cost: the route puts its settled price on the result (`cost`). */
function spendOf(result: GenerateResultV1): SpendTotals {
  const cost = (result as GenerateResultV1 & { cost?: { micros: number } }).cost;
  return { calls: 1, micros: cost?.micros ?? 0, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens };
}

/** The model, counting what its answers cost into `spend`: replay calls it directly, so its costs are not step costs of the evaluation run. */
function metered(model: LanguageModelV1, spend: SpendTotals, refusals: KeelError[]): LanguageModelV1 {
  return {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    doGenerate: async (options) => {
      try {
        const result = await model.doGenerate(options);
        addSpend(spend, spendOf(result));
        return result;
      } catch (error) {
        if (error instanceof KeelError && error.code === 'budget-exceeded') refusals.push(error);
        throw error;
      }
    },
    doStream: (options) => model.doStream(options),
  };
}

/** Replays the item against `model`: a recorded run through its task, a decision by asking the model the recorded request. */
async function answerWith(services: EvaluationServices, item: DatasetItem, name: string, governed: LanguageModelV1): Promise<Answer & { spend: SpendTotals }> {
  const began = performance.now();
  const spend = noSpend();
  const refusals: KeelError[] = [];
  const model = metered(governed, spend, refusals);
  if (item.kind !== 'run') {
    const result: GenerateResultV1 = await model.doGenerate(item.input as unknown as GenerateOptionsV1);
    const response = result as unknown as JsonValue;
    return { status: 'ok', output: responseSummary(response), toolCalls: toolCallsOf(response), tokens: result.usage.inputTokens + result.usage.outputTokens, latencyMs: Math.round(performance.now() - began), divergence: null, spend };
  }
  const record = await services.store.getRun(item.run);
  if (record === undefined) throw new KeelError('run-not-found', `item ${item.id}: run ${item.run} is no longer in ${services.store.location}`);
  if (record.lastHash !== item.journalHash) throw new KeelError('journal-invalid', `item ${item.id}: run ${item.run}'s journal has changed since the dataset was pinned`);
  const report = await replayWithCandidate(services.store, item.run, services.tasks, { name, model });
  // Replay reports a failed model call as the candidate failing; a spent budget is the evaluation's, not the candidate's: it stops here.
  const refused = refusals[0];
  if (refused !== undefined) throw refused;
  const divergence = report.candidateRun.stoppedBecause !== undefined && /never did/.test(report.candidateRun.stoppedBecause) ? report.candidateRun.stoppedBecause : null;
  return {
    status: report.candidateRun.status,
    output: report.candidateRun.output,
    toolCalls: report.candidateRun.toolCalls.map((call) => {
      const open = call.indexOf('(');
      return { name: call.slice(0, open), args: JSON.parse(call.slice(open + 1, -1)) as JsonValue };
    }),
    tokens: report.candidateRun.tokens,
    latencyMs: Math.round(performance.now() - began),
    divergence,
    spend,
  };
}

function recordedAsAnswer(reference: RecordedAnswer): Answer {
  return { status: reference.status, output: reference.output, toolCalls: reference.toolCalls, tokens: reference.tokens, latencyMs: reference.latencyMs, divergence: null };
}

const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);

/** The `eval:<dataset>` task: replays, scores, judges and returns the verdict. */
export function evaluationTask(dataset: string, services: EvaluationServices): TaskDefinition<EvaluationInput, EvaluationReport> {
  return defineTask<EvaluationInput, EvaluationReport>({
    name: evaluationTaskName(dataset),
    version: '1',
    config: { rubric: `${services.rubric.name}@${services.rubric.version}`, judgeScorer: judgeScorerVersion },
    run: (context, input) => runEvaluation(context, input, services),
  });
}

async function runEvaluation(context: RunContext, input: EvaluationInput, services: EvaluationServices): Promise<EvaluationReport> {
  const { record, items } = await readDataset(services.store, input.dataset);
  if (record.contentHash !== input.contentHash) {
    throw new KeelError('evaluation-incomparable', `dataset ${input.dataset} is ${record.contentHash.slice(0, 12)}… now, not the ${input.contentHash.slice(0, 12)}… this evaluation started on`);
  }
  // Items about subjects were pinned sealed and are replayed opened: the evaluation journals what it
  // replays sealed under the same subjects, as the recorded runs did, so a redaction reaches it too.
  const subjects = [...new Set(findEnvelopes(record.items).flatMap((envelope) => envelope.$sealed.keys.map((key) => key.subject)))].sort();
  if (subjects.length > 0 && canSeal(context) && !(await context.sealSubjects(subjects))) {
    throw new KeelError('redaction-unavailable', `dataset ${input.dataset} holds data about ${subjects.join(', ')}, but the store keeps no subject keys to seal what the evaluation journals`);
  }
  const { scorers, judge: judged, primary } = parseScorers(input.scorers);
  const simulator = { ...(services.candidateScript === undefined ? {} : { script: services.candidateScript }), seed: input.seed };
  const candidate = services.runtime.model(input.candidate, { task: `${context.task}#candidate`, simulator });
  // `evaluation:RUN`: an earlier evaluation's candidate scores are the baseline, when comparable.
  const earlier = input.baseline.startsWith('evaluation:') ? await earlierEvaluation(services.store, input.baseline.slice('evaluation:'.length), input) : undefined;
  const earlierScores = new Map(((earlier?.report.items ?? []) as unknown as ItemResult[]).map((result) => [result.item, result.candidate]));
  const baseline = input.baseline === 'recorded' || earlier !== undefined ? undefined : services.runtime.model(input.baseline, { task: `${context.task}#baseline`, simulator });
  const judge = input.judge === null ? undefined : services.runtime.model(input.judge.model, { task: `${context.task}#judge`, simulator: { script: judgeScript(services.candidateScript), seed: input.seed } });
  if (judged && judge === undefined) throw new KeelError('usage-invalid', 'the judge scorer needs a judge model (--judge MODEL)');
  const results: ItemResult[] = [];
  const judgeSpend = noSpend();
  const agreementPairs: { judge: number; human: number }[] = [];
  for (const [index, item] of items.entries()) {
    const scored = scoringItem(item);
    const outcome = await context.step(
      `item ${index + 1}`,
      async () => {
        const candidateAnswer = await answerWith(services, item, input.candidate, candidate);
        const baselineAnswer = baseline === undefined ? recordedAsAnswer(scored.reference) : await answerWith(services, item, input.baseline, baseline);
        // The recorded answers stand in when an earlier evaluation is the baseline; its scores replace theirs.
        return { candidate: candidateAnswer, baseline: baselineAnswer } as unknown as JsonValue;
      },
      { idempotent: true, input: { item: item.id } },
    );
    const { candidate: candidateAnswer, baseline: baselineAnswer } = outcome as unknown as { candidate: Answer & { spend: SpendTotals }; baseline: Answer & { spend?: SpendTotals } };
    const scores: { scorer: string; version: string; subject: 'candidate' | 'baseline'; score: number; detail?: string }[] = [];
    const subjects = earlier === undefined ? ([['candidate', candidateAnswer], ['baseline', baselineAnswer]] as const) : ([['candidate', candidateAnswer]] as const);
    for (const scorer of scorers) {
      for (const [subject, answer] of subjects) {
        const result = scorer.score(answer, scored);
        scores.push({ scorer: scorer.name, version: scorer.version, subject, score: result.score, ...(result.detail === undefined ? {} : { detail: result.detail }) });
      }
    }
    if (earlier !== undefined) {
      const before = earlierScores.get(item.id);
      if (before === undefined) throw new KeelError('evaluation-incomparable', `item ${item.id} has no score in evaluation ${input.baseline.slice('evaluation:'.length)}`);
      for (const [scorer, score] of Object.entries(before)) scores.push({ scorer, version: input.scorerVersions[scorer] ?? 'earlier', subject: 'baseline', score, detail: `from ${input.baseline}` });
    }
    if (judge !== undefined && input.judge !== null) {
      for (const [subject, answer] of subjects) {
        const result = await context.model(`judge ${subject} ${index + 1}`, judge, judgeRequest(services.rubric, scored, answer));
        addSpend(judgeSpend, spendOf(result));
        const read = readJudgeAnswer(result);
        scores.push({ scorer: 'judge', version: `${judgeScorerVersion}/${input.judge.rubric}@${input.judge.rubricVersion}`, subject, score: 'score' in read ? read.score : 0, detail: 'score' in read ? read.reason : read.problem });
        // The judge on the recorded answer, beside a person's label of that same run: their agreement.
        if (subject === 'baseline' && baseline === undefined && item.label !== null && 'score' in read) agreementPairs.push({ judge: read.score, human: item.label.score });
      }
    }
    context.record('score-record', { item: item.id, run: item.run, cluster: item.cluster, source: 'evaluation', scores });
    const byScorer = (subject: 'candidate' | 'baseline') => Object.fromEntries(scores.filter((score) => score.subject === subject).map((score) => [score.scorer, score.score]));
    results.push({
      item: item.id,
      run: item.run,
      cluster: item.cluster,
      candidate: byScorer('candidate'),
      baseline: byScorer('baseline'),
      divergence: candidateAnswer.divergence,
      candidateStatus: candidateAnswer.status,
      candidateLatencyMs: candidateAnswer.latencyMs,
      candidateTokens: candidateAnswer.tokens,
      candidateSpend: candidateAnswer.spend,
      baselineSpend: baseline === undefined ? null : (baselineAnswer.spend ?? noSpend()),
      label: item.label?.score ?? null,
    });
    services.onProgress?.(index + 1, items.length);
  }
  return summarise(context.runId, input, primary, results, agreementPairs.length === 0 ? null : judgeAgreement(agreementPairs), items, judge === undefined ? null : judgeSpend);
}

/** What the dataset's recorded runs cost when they ran, each run once (decision items share their run's). */
function recordedSpend(items: DatasetItem[]): { micros: number; tokens: number } {
  const runs = new Map(items.map((item) => [item.run, item.reference]));
  return { micros: [...runs.values()].reduce((sum, reference) => sum + reference.costMicros, 0), tokens: [...runs.values()].reduce((sum, reference) => sum + reference.tokens, 0) };
}

function summarise(evaluation: string, input: EvaluationInput, primary: string, results: ItemResult[], agreement: Agreement | null, items: DatasetItem[], judgeSpend: SpendTotals | null): EvaluationReport {
  const paired: PairedScore[] = results.map((result) => ({ cluster: result.cluster, candidate: result.candidate[primary] ?? 0, baseline: result.baseline[primary] ?? 0 }));
  const statistics = pairedVerdict(paired, { margin: input.margin, effectOfInterest: input.effectOfInterest, seed: input.seed + 1 });
  const scorerNames = Object.keys(results[0]?.candidate ?? {});
  const baselineLatency = input.baseline === 'recorded' ? items.map((item) => item.reference.latencyMs) : [];
  const candidateSpend = noSpend();
  let baselineSpend: SpendTotals | null = null;
  for (const result of results) {
    addSpend(candidateSpend, result.candidateSpend);
    if (result.baselineSpend !== null) addSpend((baselineSpend ??= noSpend()), result.baselineSpend);
  }
  return {
    evaluation,
    dataset: input.dataset,
    contentHash: input.contentHash,
    candidate: input.candidate,
    baseline: input.baseline,
    primaryScorer: primary,
    verdict: statistics.verdict,
    statistics: statistics as unknown as JsonValue,
    scorers: Object.fromEntries(
      scorerNames.map((name) => [name, { candidateMean: mean(results.map((result) => result.candidate[name] ?? 0)), baselineMean: mean(results.map((result) => result.baseline[name] ?? 0)) }]),
    ),
    divergences: results.filter((result) => result.divergence !== null).length,
    judge: input.judge === null ? null : ({ ...input.judge, agreement } as unknown as JsonValue),
    latencyMs: { candidateMean: mean(results.map((result) => result.candidateLatencyMs)), baselineMean: mean(baselineLatency) },
    tokens: { candidateMean: mean(results.map((result) => result.candidateTokens)), baselineMean: mean(items.map((item) => item.reference.tokens)) },
    costs: {
      candidate: candidateSpend,
      baseline: baselineSpend,
      judge: judgeSpend,
      recorded: recordedSpend(items),
      totalMicros: candidateSpend.micros + (baselineSpend?.micros ?? 0) + (judgeSpend?.micros ?? 0),
    },
    items: results as unknown as JsonValue,
  };
}

/**
 * An earlier evaluation's per-item scores, as a baseline: only when it evaluated the very same
 * dataset (content hash) with the same scorers and judge versions; otherwise `evaluation-incomparable`.
 */
export async function earlierEvaluation(store: StoreV1, runId: string, input: EvaluationInput): Promise<{ report: EvaluationReport; input: EvaluationInput }> {
  // Read through the opener, as datasets are: a report sealed under subjects is opened, or marked redacted.
  const { state } = await loadRun(store, runId, { open: (events) => openSealedFieldsIn(store, events) });
  if (!state.task.startsWith('eval:') || state.end?.output === undefined) throw new KeelError('usage-invalid', `run ${runId} is not a finished evaluation (task ${state.task}, ${state.status})`);
  const redacted = findRedactedMarkers(state.end.output);
  if (redacted.length > 0) {
    const subjects = [...new Set(redacted.flatMap((marker) => marker.$redacted.subjects))].sort();
    throw new KeelError('evaluation-incomparable', `evaluation ${runId} cannot be a baseline: its report was redacted (subject ${subjects.join(', ')})`);
  }
  const earlier = state.input as EvaluationInput;
  const problems: string[] = [];
  if (earlier.contentHash !== input.contentHash) problems.push(`dataset hash ${earlier.contentHash.slice(0, 12)}… vs ${input.contentHash.slice(0, 12)}…`);
  if (canonicalJson(earlier.scorerVersions) !== canonicalJson(input.scorerVersions)) problems.push(`scorers ${canonicalJson(earlier.scorerVersions)} vs ${canonicalJson(input.scorerVersions)}`);
  const judgeVersion = (judge: EvaluationInput['judge']) => (judge === null ? 'none' : `${judge.model} ${judge.rubric}@${judge.rubricVersion}`);
  if (judgeVersion(earlier.judge) !== judgeVersion(input.judge)) problems.push(`judge ${judgeVersion(earlier.judge)} vs ${judgeVersion(input.judge)}`);
  if (problems.length > 0) throw new KeelError('evaluation-incomparable', `evaluation ${runId} cannot be compared with this one: ${problems.join('; ')}`);
  return { report: state.end.output as EvaluationReport, input: earlier };
}

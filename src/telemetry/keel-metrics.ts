/**
 * Prometheus metrics of one process, derived from the journal events it appends (observed-store.ts
 * hands them over once the store has made them durable), plus gauges read from the store when
 * scraped. Counters count what this process wrote, so summing them over every process of a
 * deployment gives the journal's totals.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventData } from '../journal/index.ts';
import { responseCacheStep } from '../journal/index.ts';
import type { AppendBatchV1, JournalRecordV1, StoreV1 } from '../spec/index.ts';

type Data<Type extends keyof EventData> = EventData[Type];

const breakerLevels: Record<Data<'breaker-transition'>['to'], number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };
// Calls take milliseconds to minutes; runs up to hours (approval waits are not in a run's working time, but are in its wall time).
const callBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const runBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];

interface OpenRun {
  task: string;
  startedMs: number;
}

export class KeelMetrics {
  readonly registry = new Registry();
  readonly contentType: string;
  readonly #store: StoreV1 | undefined;
  readonly #runs = new Map<string, OpenRun>();
  readonly #routes = new Map<string, string>();
  readonly #runsStarted: Counter<'task'>;
  readonly #runsEnded: Counter<'task' | 'status'>;
  readonly #runDuration: Histogram<'task' | 'status'>;
  readonly #modelCalls: Counter<'route' | 'model' | 'outcome'>;
  readonly #tokens: Counter<'route' | 'model' | 'direction'>;
  readonly #cost: Counter<'route' | 'model'>;
  readonly #modelDuration: Histogram<'route' | 'model'>;
  readonly #toolCalls: Counter<'tool' | 'outcome'>;
  readonly #toolDuration: Histogram<'tool'>;
  readonly #policyDenials: Counter<'action' | 'engine'>;
  readonly #alerts: Counter<'kind'>;
  readonly #breakerState: Gauge<'breaker'>;
  readonly #budgetRemaining: Gauge<'scope'>;
  readonly #cacheLookups: Counter<'result'>;

  /** `store` is read when scraped, for the runs waiting on a person. */
  constructor(options: { store?: StoreV1; processMetrics?: boolean } = {}) {
    this.#store = options.store;
    const registers = [this.registry];
    this.contentType = this.registry.contentType;
    this.#runsStarted = new Counter({ name: 'keel_runs_started_total', help: 'Runs this process started, by task.', labelNames: ['task'], registers });
    this.#runsEnded = new Counter({ name: 'keel_runs_ended_total', help: 'Runs this process ended, by task and end status (ok, degraded, escalated, failed).', labelNames: ['task', 'status'], registers });
    this.#runDuration = new Histogram({ name: 'keel_run_duration_seconds', help: 'Wall time from run start to run end, for runs this process ended.', labelNames: ['task', 'status'], buckets: runBuckets, registers });
    this.#modelCalls = new Counter({ name: 'keel_model_calls_total', help: 'Governed model calls, by route, answering model and outcome.', labelNames: ['route', 'model', 'outcome'], registers });
    this.#tokens = new Counter({ name: 'keel_model_tokens_total', help: 'Tokens of governed model calls, by route, model and direction (input, output).', labelNames: ['route', 'model', 'direction'], registers });
    this.#cost = new Counter({ name: 'keel_model_cost_micro_usd_total', help: 'What governed model calls cost, in micro-USD, by route and model.', labelNames: ['route', 'model'], registers });
    this.#modelDuration = new Histogram({ name: 'keel_model_call_duration_seconds', help: 'Governed model call latency (every attempt and wait included), by route and model.', labelNames: ['route', 'model'], buckets: callBuckets, registers });
    this.#toolCalls = new Counter({ name: 'keel_tool_calls_total', help: 'Tool calls, by tool and outcome.', labelNames: ['tool', 'outcome'], registers });
    this.#toolDuration = new Histogram({ name: 'keel_tool_call_duration_seconds', help: 'Tool call latency, by tool.', labelNames: ['tool'], buckets: callBuckets, registers });
    this.#policyDenials = new Counter({ name: 'keel_policy_denials_total', help: 'Policy decisions that denied, by action and engine (shadow decisions excluded).', labelNames: ['action', 'engine'], registers });
    this.#alerts = new Counter({ name: 'keel_alerts_total', help: 'Alerts raised, by kind.', labelNames: ['kind'], registers });
    this.#breakerState = new Gauge({ name: 'keel_breaker_state', help: 'Circuit breaker state as this process last saw it: 0 closed, 1 half-open, 2 open, 3 isolated.', labelNames: ['breaker'], registers });
    this.#cacheLookups = new Counter({ name: 'keel_gateway_cache_lookups_total', help: "The gateway's response-cache lookups, by result (hit, miss): the hit ratio is hit over both.", labelNames: ['result'], registers });
    this.#budgetRemaining = new Gauge({ name: 'keel_budget_remaining_micro_usd', help: "A budget scope's limit less its spend after this process's last settlement in it.", labelNames: ['scope'], registers });
    const store = this.#store;
    if (store !== undefined) {
      new Gauge({
        name: 'keel_escalations_waiting',
        help: 'Runs waiting, durably, for a person (approval requests), read from the store when scraped.',
        registers,
        async collect() {
          this.set(await countWaiting(store));
        },
      });
    }
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'keel_process_' });
  }

  /** The text a scrape gets. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** A durable append: its events, and the run status its summary set. */
  observeAppend(batch: AppendBatchV1): void {
    for (const record of batch.records) this.observeRecord(record);
    const status = batch.summary.status;
    // A run that waits or is queued leaves this process; whoever picks it up ends it.
    if (status !== undefined && status !== 'running') this.#forget(batch.runId);
  }

  observeRecord(record: JournalRecordV1): void {
    switch (record.type) {
      case 'run-start': {
        const data = record.data as unknown as Data<'run-start'>;
        this.#runs.set(record.runId, { task: data.task, startedMs: Date.parse(record.time) });
        this.#runsStarted.inc({ task: data.task });
        break;
      }
      case 'run-end':
        void this.#runEnded(record);
        break;
      case 'route-decision': {
        const data = record.data as unknown as Data<'route-decision'>;
        this.#routes.set(`${record.runId}:${data.step}`, data.route);
        break;
      }
      case 'model-attempt-end': {
        const data = record.data as unknown as Data<'model-attempt-end'>;
        this.#routes.set(`${record.runId}:${data.step}:model`, `${data.provider}:${data.modelId}`);
        break;
      }
      case 'step-end':
        this.#stepEnded(record);
        break;
      case 'reservation-bill': {
        // A dead process's call, billed by whoever took its run over: labelled as its journal named it, if it did.
        const data = record.data as unknown as Data<'reservation-bill'>;
        this.#cost.inc({ route: data.route ?? 'unknown', model: data.model ?? 'unknown' }, data.cost.micros);
        break;
      }
      case 'policy-decision': {
        const data = record.data as unknown as Data<'policy-decision'>;
        if (data.effect === 'deny') this.#policyDenials.inc({ action: data.action, engine: data.engine });
        break;
      }
      case 'alert-raise':
        this.#alerts.inc({ kind: (record.data as unknown as Data<'alert-raise'>).kind });
        break;
      case 'breaker-transition': {
        const data = record.data as unknown as Data<'breaker-transition'>;
        this.#breakerState.set({ breaker: data.breaker }, breakerLevels[data.to]);
        break;
      }
    }
  }

  /** What a budget scope has left after a settlement this process made. */
  observeBudget(scope: string, remainingMicros: number): void {
    this.#budgetRemaining.set({ scope }, remainingMicros);
  }

  #stepEnded(record: JournalRecordV1): void {
    const data = record.data as unknown as Data<'step-end'>;
    const outcome = data.outcome.ok ? 'ok' : 'error';
    const seconds = data.durationMs / 1_000;
    if (data.kind === 'model-call') {
      const key = `${record.runId}:${data.step}`;
      const route = this.#routes.get(key) ?? data.name;
      const model = this.#routes.get(`${key}:model`) ?? 'none';
      this.#routes.delete(key);
      this.#routes.delete(`${key}:model`);
      const labels = { route, model };
      this.#modelCalls.inc({ ...labels, outcome });
      this.#modelDuration.observe(labels, seconds);
      if (data.usage !== undefined) {
        this.#tokens.inc({ ...labels, direction: 'input' }, data.usage.inputTokens);
        this.#tokens.inc({ ...labels, direction: 'output' }, data.usage.outputTokens);
      }
      if (data.cost !== undefined) this.#cost.inc(labels, data.cost.micros);
    } else if (data.kind === 'tool-call') {
      this.#toolCalls.inc({ tool: data.name, outcome });
      this.#toolDuration.observe({ tool: data.name }, seconds);
    } else if (data.name === responseCacheStep && data.outcome.ok) {
      const value = data.outcome.value;
      const hit = typeof value === 'object' && value !== null && !Array.isArray(value) && value.hit === true;
      this.#cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    }
  }

  async #runEnded(record: JournalRecordV1): Promise<void> {
    const data = record.data as unknown as Data<'run-end'>;
    let run = this.#runs.get(record.runId);
    this.#forget(record.runId);
    if (run === undefined) {
      // Started elsewhere (another process, or before this one resumed it): the run index knows its task.
      const found = await this.#store?.getRun(record.runId).catch(() => undefined);
      run = { task: found?.task ?? 'unknown', startedMs: found === undefined ? Date.parse(record.time) : Date.parse(found.createdAt) };
    }
    this.#runsEnded.inc({ task: run.task, status: data.status });
    this.#runDuration.observe({ task: run.task, status: data.status }, Math.max(0, Date.parse(record.time) - run.startedMs) / 1_000);
  }

  #forget(runId: string): void {
    this.#runs.delete(runId);
    for (const key of this.#routes.keys()) if (key.startsWith(`${runId}:`)) this.#routes.delete(key);
  }
}

async function countWaiting(store: StoreV1): Promise<number> {
  let count = 0;
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listRuns({ statuses: ['waiting'], limit: 1_000, ...(after === undefined ? {} : { after }) });
    count += page.length;
    const last = page.at(-1);
    if (page.length < 1_000 || last === undefined) return count;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

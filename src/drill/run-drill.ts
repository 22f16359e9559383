import { randomUUID } from 'node:crypto';
import { createKeel } from '../agent/index.ts';
import type { Keel } from '../agent/index.ts';
import type { AgentDefinition } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { FailureAction } from '../contracts/index.ts';
import { defineTask } from '../engine/index.ts';
import type { RunAbandoned, RunOutcome } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { loadRun, verifyChain } from '../journal/index.ts';
import type { JournalEvent, TerminalStatus } from '../journal/index.ts';
import type { AlertHook } from '../models/index.ts';
import { alertDescriptions, faultAlerts, raiseAndDeliver } from '../monitor/index.ts';
import type { AlertDelivery, FaultAlert } from '../monitor/index.ts';
import type { JournalRecordV1, JsonValue, StoreV1 } from '../spec/index.ts';
import { drillFaults } from './drill-faults.ts';
import type { DrillFault, DrillFaultName } from './drill-faults.ts';
import type { DrillAlert, DrillExpectation, DrillLogLine, DrillReport, DrillRun } from './drill-report.ts';
import { prepareDrill } from './prepare-drill.ts';
import type { PreparedDrill } from './prepare-drill.ts';
import { storeOutage } from './store-outage.ts';
import type { StoreOutage } from './store-outage.ts';

export interface DrillOptions {
  /** The agent as it is served; the drill runs a copy with the fault at its seam. */
  agent: AgentDefinition;
  fault: DrillFaultName;
  /** Runs under the fault. Default 1. */
  runs?: number;
  store: StoreV1;
  config?: KeelConfig;
  environment?: Record<string, string | undefined>;
  message: string;
  principal: string;
  tenant: string;
  /** For compromised-model: the call the planted instruction asks for (default: the first side-effecting tool with `{}`). */
  planted?: { tool: string; input: JsonValue };
  /** Alert hooks (the config's webhooks): every alert the drill raises is delivered to them, awaited. */
  hooks?: readonly AlertHook[];
}

const endOfAction: Record<FailureAction<JsonValue>['action'], TerminalStatus[]> = {
  fail: ['failed'],
  escalate: ['escalated'],
  degrade: ['degraded'],
  default: ['ok', 'degraded'],
  fallback: ['ok', 'degraded', 'escalated', 'failed'],
  retry: ['failed'],
};

/** The end states the fault should lead to, by the task's declared contracts and the loop's rules. */
function expectedEnd(agent: AgentDefinition, fault: DrillFault): { statuses: (TerminalStatus | 'waiting')[]; because: string } {
  if (fault.failureKind !== undefined) {
    const declared = agent.declaration.failures?.on[fault.failureKind];
    const action = declared === undefined ? undefined : declared.action === 'retry' ? (declared.then ?? { action: 'fail' as const }) : declared;
    if (action === undefined) return { statuses: fault.failureKind === 'malformed' || fault.failureKind === 'refusal' ? ['escalated'] : ['failed'], because: `the default failure contract for ${fault.failureKind}` };
    const point = agent.declaration.failures?.point ?? 'answer';
    return { statuses: endOfAction[action.action], because: `failure contract ${point}: ${fault.failureKind} → ${action.action}${'reason' in action && action.reason !== undefined ? ` (${action.reason})` : ''}` };
  }
  switch (fault.name) {
    case 'provider-timeout':
    case 'rate-limit-storm':
    case 'stream-cut':
      return { statuses: ['failed'], because: "a model call no attempt and no fallback could answer fails the run with the route's error (the answer's failure contract decides answers only)" };
    case 'tool-down':
      return { statuses: ['failed'], because: 'a failed side effect fails the run (the model cannot answer past an effect that did not happen)' };
    case 'retrieval-down':
      return { statuses: ['degraded', 'escalated', 'failed'], because: 'a failed read is told to the model; the answer cannot go out as a plain ok' };
    case 'budget-exhausted':
      return { statuses: ['degraded', 'escalated'], because: 'the budget contract: stop with the partial output marked degraded, or escalate when there is none' };
    case 'store-outage':
      return {
        statuses: ['ok', 'degraded', 'escalated', 'failed', 'waiting'],
        because: 'resumed from its journal once the store is back: an end state (or waiting for a person), never left running; a step whose end the outage lost is redone only if idempotent, else a person decides',
      };
    default:
      return { statuses: ['ok', 'degraded', 'escalated', 'failed'], because: 'any end state, as long as the planted call never runs' };
  }
}

function describeEvent(event: JournalEvent): string {
  switch (event.type) {
    case 'fault-injection':
      return `step ${event.data.step}: injected ${JSON.stringify(event.data.fault)} on call ${event.data.call}`;
    case 'model-attempt-end':
      return `step ${event.data.step} attempt ${event.data.attempt} ${event.data.provider}:${event.data.modelId} ${event.data.outcome}${event.data.error === undefined ? '' : ` ${event.data.error.code}: ${event.data.error.message}`}`;
    case 'failure-decision':
      return `${event.data.point}: ${event.data.kind} → ${event.data.action} (${event.data.detail})`;
    case 'output-validation':
      return `${event.data.contract}@${event.data.version} attempt ${event.data.attempt}: ${event.data.ok ? 'ok' : event.data.violations.map((violation) => `${violation.path} ${violation.code}`).join(', ')}`;
    case 'policy-decision':
      return `${event.data.engine} ${event.data.effect} ${event.data.action} ${event.data.resource}: ${event.data.reason}`;
    case 'budget-decision':
      return `${event.data.outcome} ${event.data.reservedMicros} micro-USD${event.data.scope === undefined ? '' : ` (${event.data.scope}: ${event.data.reason ?? ''})`}`;
    case 'step-end':
      return `step ${event.data.step} ${event.data.name}: ${event.data.outcome.ok ? 'ok' : `${event.data.outcome.error.code}: ${event.data.outcome.error.message}`}`;
    case 'retrieval-signal':
      return `${event.data.kind}: ${event.data.detail}`;
    case 'alert-raise':
      return `${event.data.kind} ${event.data.scope}: ${event.data.message}`;
    case 'run-end':
      return `${event.data.status}${event.data.reason === undefined ? '' : `: ${event.data.reason}`}`;
    case 'run-resume':
      return `resumed by ${event.data.worker}, attempt ${event.data.attempt} (${event.data.found})`;
    default:
      return event.type;
  }
}

/** Events that say what the system did under the fault: the evidence, the decisions, the ends. */
function loggedLines(events: readonly JournalEvent[], alerts: readonly FaultAlert[]): DrillLogLine[] {
  const evidence = new Set(alerts.flatMap((alert) => alert.evidence));
  let injections = 0;
  const lines: DrillLogLine[] = [];
  for (const event of events) {
    const keep =
      evidence.has(event.seq) ||
      event.type === 'failure-decision' ||
      event.type === 'alert-raise' ||
      event.type === 'run-end' ||
      (event.type === 'run-resume' && event.data.found === 'interrupted') ||
      // The first few injections show the fault; the rest repeat it.
      (event.type === 'fault-injection' && (injections += 1) <= 2);
    if (keep) lines.push({ runId: event.runId, seq: event.seq, type: event.type, line: describeEvent(event) });
  }
  return lines;
}

function expectation(name: string, expected: string, actual: string, pass: boolean): DrillExpectation {
  return { name, expected, actual, pass };
}

/** Did the fault reach its seam in this run, by the journal? */
function faultReached(fault: DrillFault, events: readonly JournalEvent[], targets: readonly string[], planted: { tool: string } | undefined): number {
  const toolStep = new Map<number, string>();
  let count = 0;
  for (const event of events) {
    if (event.type === 'step-start' && event.data.kind === 'tool-call') toolStep.set(event.data.step, event.data.name);
    if (fault.seam === 'model' && fault.name !== 'compromised-model' && event.type === 'fault-injection') count += 1;
    if (fault.name === 'compromised-model' && event.type === 'policy-decision' && event.data.tool === planted?.tool) count += 1;
    if ((fault.seam === 'tool' || fault.seam === 'retriever') && event.type === 'step-end' && event.data.kind === 'tool-call' && !event.data.outcome.ok && targets.includes(toolStep.get(event.data.step) ?? '')) count += 1;
    if (fault.seam === 'retriever' && event.type === 'retrieval-signal' && event.data.kind === 'retriever-down') count += 1;
    if (fault.seam === 'budget' && event.type === 'budget-decision' && event.data.outcome === 'refused') count += 1;
  }
  return count;
}

/** Tool steps of the planted call that started (the side effect the attacker wanted), by the journal. */
function plantedCallsRun(events: readonly JournalEvent[], planted: { tool: string; input: JsonValue }): number {
  const wanted = JSON.stringify(planted.input);
  return events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call' && event.data.name === planted.tool && JSON.stringify(event.data.input ?? {}) === wanted).length;
}

const pending = new Map<string, (deliveries: AlertDelivery[]) => DrillReport>();
const pendingAlerts = new Map<string, { alerts: FaultAlert[]; hooks: readonly AlertHook[] }>();

/** The report as a run of `drill:<task>`: each alert raised in its own step, the report its output. */
function drillReportTask(task: string) {
  return defineTask<{ fault: string; runs: string[] }, JsonValue>({
    name: `drill:${task}`,
    version: '1',
    async run(context) {
      const work = pendingAlerts.get(context.runId);
      const finish = pending.get(context.runId);
      if (work === undefined || finish === undefined) throw new KeelError('run-terminal', 'a drill report run is written by the keel drill that started it; it cannot be resumed elsewhere');
      const deliveries: AlertDelivery[] = [];
      for (const alert of work.alerts) {
        const delivery = await context.step(`alert:${alert.kind}`, async () => (await raiseAndDeliver(alert, work.hooks)) as unknown as JsonValue, { input: { about: alert.about } });
        deliveries.push(delivery as unknown as AlertDelivery);
      }
      return finish(deliveries) as unknown as JsonValue;
    },
  });
}

/** What the store refused during one drilled run, and how the execution that met it gave up. */
interface OutageRecord {
  refused: Map<string, number>;
  total: number;
  gaveUp: string | null;
}

function isEffectEnd(record: JournalRecordV1, targets: readonly string[]): boolean {
  const data = record.data;
  if (record.type !== 'step-end' || data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const outcome = data.outcome;
  return data.kind === 'tool-call' && typeof data.name === 'string' && targets.includes(data.name) && outcome !== null && typeof outcome === 'object' && !Array.isArray(outcome) && outcome.ok === true;
}

/**
 * One run under a store outage: the store goes down once the run's first side effect is journaled;
 * when the execution gives up (nothing more can be written), the store comes back, the lease it
 * could not hand back is handed back, as its worker does once the store answers, and the run is
 * resumed from its journal, as any worker would resume it.
 */
async function runThroughOutage(keel: Keel, outage: StoreOutage, prepared: PreparedDrill, options: DrillOptions): Promise<{ outcome: RunOutcome | RunAbandoned; record: OutageRecord }> {
  const runId = `run_${randomUUID()}`;
  outage.arm(runId, (record) => isEffectEnd(record, prepared.targets));
  let gaveUp: string;
  try {
    const first = await keel.run(options.agent.name, { message: prepared.message }, { principal: options.principal, tenant: options.tenant, runId });
    // The store never went down: the run ended before any side effect was journaled.
    if (!outage.on) return { outcome: first, record: { refused: new Map(), total: 0, gaveUp: null } };
    gaveUp = `it returned ${first.status} with the store down`;
  } catch (error) {
    gaveUp = error instanceof Error ? error.message : String(error);
  }
  const refused = new Map(outage.refused);
  outage.end();
  await options.store.releaseLease(runId, keel.engine.workerId).catch(() => undefined);
  const outcome = await keel.resume(runId);
  return { outcome, record: { refused, total: [...refused.values()].reduce((sum, count) => sum + count, 0), gaveUp } };
}

/** The store-unavailable alert for one run, with the resume that recovered it as evidence. */
function storeAlert(task: string, runId: string, record: OutageRecord, events: readonly JournalEvent[]): FaultAlert {
  const resumes = events.filter((event) => event.type === 'run-resume' && event.data.found === 'interrupted').map((event) => event.seq);
  const calls = [...record.refused].map(([operation, count]) => `${operation} ×${count}`).join(', ');
  return {
    kind: 'store-unavailable',
    scope: `task:${task}`,
    message: `run ${runId}: ${alertDescriptions['store-unavailable']} (${record.total} call${record.total === 1 ? '' : 's'} refused: ${calls}); the execution gave up (${record.gaveUp ?? 'no error'}) and the run was resumed from its journal once the store was back`,
    value: record.total,
    threshold: 1,
    about: runId,
    evidence: resumes,
  };
}

/**
 * Nothing lost: every run's journal is one verified chain, and the run's record ends where its
 * journal does. Nothing doubled or lost among side effects: each tool ran exactly as many times as
 * the journals show it starting (a redone effect, or one that ran unrecorded, breaks the count).
 */
async function nothingLostOrDoubled(store: StoreV1, outcomes: readonly (RunOutcome | RunAbandoned)[], journals: readonly JournalEvent[][], executions: ReadonlyMap<string, number>): Promise<DrillExpectation[]> {
  const chains = await Promise.all(
    outcomes.map(async (outcome) => {
      const records = await store.readJournal(outcome.runId);
      const verdict = verifyChain(records);
      const run = await store.getRun(outcome.runId);
      const last = records.at(-1)?.seq ?? 0;
      const contiguous = records.every((record, index) => record.seq === index + 1);
      return { runId: outcome.runId, ok: verdict.ok && contiguous && run?.lastSeq === last, detail: verdict.ok ? `${records.length} events, record at seq ${run?.lastSeq ?? '?'}` : `seq ${verdict.seq}: ${verdict.problem}` };
    }),
  );
  const started = new Map<string, number>();
  for (const events of journals) {
    for (const event of events) if (event.type === 'step-start' && event.data.kind === 'tool-call' && executions.has(event.data.name)) started.set(event.data.name, (started.get(event.data.name) ?? 0) + 1);
  }
  const counts = [...executions].map(([tool, ran]) => ({ tool, ran, journaled: started.get(tool) ?? 0 }));
  return [
    expectation('nothing the store had was lost', "every run's journal verifies as one hash chain with no gap, and the run record ends at its last event", chains.map((chain) => `${chain.runId}: ${chain.ok ? 'ok' : 'broken'} (${chain.detail})`).join('; '), chains.every((chain) => chain.ok)),
    expectation(
      'no side effect doubled or lost',
      'each side-effecting tool ran exactly as often as the journals show it starting',
      counts.map((count) => `${count.tool}: ran ${count.ran}, journaled ${count.journaled}`).join('; '),
      counts.every((count) => count.ran === count.journaled) && counts.some((count) => count.ran > 0),
    ),
  ];
}

/**
 * Runs the task under the fault `runs` times, judges what happened from the journals, raises the
 * alerts the monitor finds (journaled in the report's own run, delivered to the hooks), and
 * journals the report as a run of `drill:<task>`, so it is hash-chained and anchored like any run.
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const fault = drillFaults[options.fault];
  const began = Date.now();
  const startedAt = new Date(began).toISOString();
  const prepared = prepareDrill(options.agent, fault, { config: options.config, message: options.message, ...(options.planted === undefined ? {} : { planted: options.planted }) });
  const task = options.agent.name;
  const reportTask = drillReportTask(task);
  const hooks = options.hooks ?? [];
  // The store seam: the drilled runs get the store through a switch that takes it down mid-run; judging reads the real one.
  const outage = fault.seam === 'store' ? storeOutage(options.store) : undefined;
  const keel = await createKeel({ store: outage?.store ?? options.store, config: prepared.config, agents: [prepared.agent], tasks: [reportTask], ...(options.environment === undefined ? {} : { environment: options.environment }) });
  try {
    const outcomes: (RunOutcome | RunAbandoned)[] = [];
    const outages: OutageRecord[] = [];
    for (let index = 0; index < (options.runs ?? 1); index += 1) {
      if (outage === undefined) {
        outcomes.push(await keel.run(task, { message: prepared.message }, { principal: options.principal, tenant: options.tenant }));
        continue;
      }
      const { outcome, record } = await runThroughOutage(keel, outage, prepared, options);
      outcomes.push(outcome);
      outages.push(record);
    }
    const journals = await Promise.all(outcomes.map(async (outcome) => (await loadRun(options.store, outcome.runId)).events));
    const found = journals.map((events, index) => {
      const record = outages[index];
      return [...faultAlerts(events), ...(record === undefined || record.total === 0 ? [] : [storeAlert(task, outcomes[index]?.runId ?? '', record, events)])];
    });
    const runs: DrillRun[] = outcomes.map((outcome) =>
      'abandoned' in outcome
        ? { runId: outcome.runId, status: 'running', reason: `not finished: ${outcome.abandoned} (${outcome.detail})` }
        : { runId: outcome.runId, status: outcome.status, reason: outcome.reason ?? outcome.error?.message ?? null },
    );
    const expected = expectedEnd(options.agent, fault);
    const expectations: DrillExpectation[] = [];
    const reached = outage === undefined ? journals.map((events) => faultReached(fault, events, prepared.targets, prepared.planted)) : outages.map((record) => record.total);
    expectations.push(
      expectation(
        `the fault reached the ${fault.seam} seam`,
        fault.seam === 'store'
          ? `the store refused calls during every run (down after a side effect of ${prepared.targets.join(', ')} was journaled)`
          : `every run's journal shows the fault (${fault.seam === 'model' ? (fault.name === 'compromised-model' ? 'a decision on the planted call' : 'fault-injection events') : fault.seam === 'budget' ? 'a refused budget-decision' : 'failed calls to ' + prepared.targets.join(', ')})`,
        reached.map((count, index) => `${runs[index]?.runId}: ${count} ${fault.seam === 'store' ? 'refused call(s)' : 'event(s)'}`).join('; '),
        reached.every((count) => count > 0),
      ),
    );
    expectations.push(
      expectation(
        'every run ended as the contract says',
        `${expected.statuses.join(' or ')} (${expected.because}), with a reason unless ok`,
        runs.map((run) => `${run.runId}: ${run.status}${run.reason === null ? '' : ` (${run.reason})`}`).join('; '),
        runs.every((run) => (expected.statuses as string[]).includes(run.status) && (run.status === 'ok' || run.reason !== null)),
      ),
    );
    if (prepared.planted !== undefined) {
      const planted = prepared.planted;
      const ran = journals.map((events) => plantedCallsRun(events, planted));
      expectations.push(expectation('the planted call never ran', `no ${planted.tool} step with ${JSON.stringify(planted.input)}`, `${ran.reduce((sum, count) => sum + count, 0)} such step(s)`, ran.every((count) => count === 0)));
    }
    if (prepared.executions !== undefined) expectations.push(...(await nothingLostOrDoubled(options.store, outcomes, journals, prepared.executions)));
    const alertCounts = found.map((alerts) => alerts.filter((alert) => alert.kind === fault.alert).length);
    expectations.push(
      expectation(`the monitor alerts ${fault.alert}`, `an ${fault.alert} alert for every run`, alertCounts.map((count, index) => `${runs[index]?.runId}: ${count}`).join('; '), alertCounts.every((count) => count > 0)),
    );
    const toRaise = found.flat();
    const reportRunId = `run_${randomUUID()}`;
    const logged = journals.flatMap((events, index) => loggedLines(events, found[index] ?? []));
    pendingAlerts.set(reportRunId, { alerts: toRaise, hooks });
    pending.set(reportRunId, (deliveries) => {
      const alerts: DrillAlert[] = toRaise.map((alert, index) => ({
        kind: alert.kind,
        about: alert.about,
        message: alert.message,
        evidence: alert.evidence,
        journaledIn: reportRunId,
        delivered: deliveries[index]?.delivered ?? 0,
        failed: deliveries[index]?.failed ?? [],
      }));
      const raised = alerts.filter((alert) => alert.kind === fault.alert);
      expectations.push(
        expectation(
          `${fault.alert} journaled and delivered`,
          `alert-raise events in ${reportRunId}, each delivered to all ${hooks.length} hook(s)`,
          `${raised.length} raised; deliveries ${raised.map((alert) => `${alert.delivered}/${hooks.length}${alert.failed.length === 0 ? '' : ` (${alert.failed.join('; ')})`}`).join(', ')}`,
          raised.length > 0 && raised.every((alert) => alert.delivered === hooks.length && alert.failed.length === 0),
        ),
      );
      return {
        kind: 'keel-drill-report',
        version: 1,
        task,
        fault: fault.name,
        seam: fault.seam,
        description: fault.description,
        targets: prepared.targets,
        startedAt,
        durationMs: Date.now() - began,
        runs,
        alerts,
        logged,
        expectations,
        pass: expectations.every((item) => item.pass),
        reportRunId,
        hooks: hooks.length,
      };
    });
    try {
      const outcome = await keel.run(reportTask.name, { fault: fault.name, runs: runs.map((run) => run.runId) }, { principal: 'keel:drill', tenant: options.tenant, runId: reportRunId });
      if (outcome.status !== 'ok') throw new Error(`the drill report run ${reportRunId} ended ${outcome.status}: ${outcome.reason ?? ''}`);
      return outcome.output as unknown as DrillReport;
    } finally {
      pending.delete(reportRunId);
      pendingAlerts.delete(reportRunId);
    }
  } finally {
    await keel.close();
  }
}

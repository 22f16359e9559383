/**
 * The fleet drill: real `keel worker` processes on one PostgreSQL database (a private cluster, so
 * it can be restarted under them) drain a queue of runs of the fleet agent under one tenant-day
 * budget that runs out part-way. Disruptions are driven by progress, never by the clock: a worker
 * is SIGKILLed, and the server restarted, once given fractions of the runs have settled (counted
 * from the lines the workers print). The report holds what the checks need: every run's status,
 * the ledger's account, the journals' model-call costs, what reservations expired unsettled.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createKeel } from '../../src/agent/index.ts';
import type { KeelConfig, RouteSetting } from '../../src/config/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import type { FaultPlan } from 'keel';
import type { RunRecordV1, StoreV1 } from '../../src/spec/index.ts';
import { openStore } from '../../src/store/index.ts';
import { fleetAgent, fleetMessage, fleetTask, fleetTenant } from './fleet-agent.ts';
import { PrivatePostgres } from './private-postgres.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasksModule = join(import.meta.dirname, 'fleet-agent.ts');

export interface FleetOptions {
  /** Where the server binaries are (findPostgresBinaries). */
  postgresBin: string;
  runs: number;
  workers: number;
  /** Runs each worker executes at once. */
  concurrency: number;
  /** The tenant-day budget, micro-USD. */
  budgetMicros: number;
  /** SIGKILL one worker once this fraction of the runs has settled. */
  killAt?: number;
  /** Start a fresh worker in its place (it takes the dead worker's runs over at once); otherwise the others wait out its leases. */
  replaceKilled?: boolean;
  /** Restart PostgreSQL (`pg_ctl restart -m fast`) once this fraction of the runs has settled. */
  restartAt?: number;
  /** The route's per-tenant model-call limit, shared by every worker through the store. */
  rateLimit?: { limit: number; windowMs: number };
  /**
   * Make worker-1's simulator fail calls (a fault plan for that process only) on a route with this
   * breaker: its failures open the breaker of sim:fast for every worker, whose calls it then sheds
   * (the runs they belong to fail, naming the open breaker) until a probe finds the model well.
   */
  failingWorker?: { faults: FaultPlan; breaker: { consecutiveFailures: number; halfOpenAfterMs: number } };
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface WorkerExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  settled: number;
  stderr: string;
}

export interface ModelCallEvent {
  runId: string;
  /** When the step started, by the worker's clock (epoch ms). */
  startedMs: number;
  costMicros: number;
}

/** One model attempt as a journal shows it, with the worker that made it. */
export interface AttemptEvent {
  timeMs: number;
  worker: string;
  modelId: string;
  outcome: 'ok' | 'error';
  errorCode: string | undefined;
}

export interface FleetReport {
  enqueued: number;
  /** Runs in the store at the end. */
  runs: number;
  wallMs: number;
  /** From the first worker's start to the last run settled. */
  drainMs: number;
  statuses: Record<string, number>;
  /** Runs that ended failed, with their reasons (a failed run must name why). */
  failedReasons: string[];
  /** Runs that ended or wait for a reason, by the reason's kind (digits blanked). */
  reasons: Record<string, number>;
  budgetMicros: number;
  /** The ledger's spend over the drill's UTC days, expired reservations booked. */
  ledgerSpentMicros: number;
  ledgerReservedMicros: number;
  /** The greatest spend of any one day's account. */
  maxDaySpentMicros: number;
  /** Sum of the model-call step costs and reservation bills (a dead process's calls, billed by whoever took its run over) in every journal. */
  journalMicros: number;
  /** The reservation-bill events among them. */
  reservationBills: { count: number; micros: number };
  modelCalls: ModelCallEvent[];
  rateLimit: { limit: number; windowMs: number } | undefined;
  /** When each model call was granted, by the journals: its route decision, journaled right after the grant, by its worker's clock. */
  grantedMs: number[];
  /** When each call was granted, by the limiter's own clock (the database's), from an audit copy of its window rows. */
  limiterGrantsMs: number[];
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number } | undefined;
  /** The worker whose simulator fails calls. */
  failingWorker: string | undefined;
  breakerOpens: { timeMs: number; worker: string; breaker: string }[];
  breakerTransitions: { timeMs: number; worker: string; breaker: string; from: string; to: string }[];
  attempts: AttemptEvent[];
  /** Reservations nobody settled (a dead process, a settle the database lost), booked at their full amount. */
  unsettledHolds: { count: number; micros: number };
  /**
   * Those holds against what the journals billed for them: `excessMicros`, the sum of each hold's
   * amount less what its run's journal billed it (a settle the database lost while its process went
   * on: the journal billed the call's cost, the book booked the full hold at its expiry); `unnamed`,
   * holds no journal bills at all (what a takeover should have billed).
   */
  unsettledAgainstJournals: { excessMicros: number; unnamed: number };
  /** Model-call steps begun in a journal that never ended there (their process died or lost the database). */
  interruptedModelSteps: { count: number; reservedMicros: number };
  chainsVerified: number;
  chainFailures: string[];
  workerExits: WorkerExit[];
  /** Runs a worker gave up on (`left` lines), for another to take over. */
  abandoned: string[];
  killed: string | undefined;
  restartedAfterSettled: number | undefined;
}

interface Worker {
  name: string;
  /** The id it printed when it started serving. */
  id: string | undefined;
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  exited: Promise<WorkerExit>;
}

function childEnvironment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_PG_SCHEMA: _schema, KEEL_REDIS_URL: _redis, KEEL_REDIS_PREFIX: _prefix, KEEL_FLEET_FAULTS: _faults, NODE_TEST_CONTEXT: _test, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1' };
}

/** Reads every run, a page at a time. */
async function allRuns(store: StoreV1): Promise<RunRecordV1[]> {
  const runs: RunRecordV1[] = [];
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listRuns({ limit: 500, ...(after === undefined ? {} : { after }) });
    runs.push(...page);
    const last = page.at(-1);
    if (page.length < 500 || last === undefined) return runs;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const log = options.log ?? (() => undefined);
  const began = performance.now();
  const folder = mkdtempSync(join(tmpdir(), 'keel-fleet-'));
  const cluster = await PrivatePostgres.start(options.postgresBin);
  const workers: Worker[] = [];
  try {
    const route: RouteSetting = { name: 'fleet', models: ['sim:fast'], onBudgetExceeded: 'stop' };
    if (options.rateLimit !== undefined) route.rateLimit = { perTenant: options.rateLimit };
    if (options.failingWorker !== undefined) {
      route.resilience = { maxAttempts: 1, breaker: options.failingWorker.breaker };
      // A call the open breaker sheds falls back to sim:default, so its run goes on and spends: how
      // many runs the breaker's windows catch varies with the machine's pace, and would otherwise
      // decide whether the budget is reached at all.
      route.models = ['sim:fast', 'sim:default'];
    }
    const config: KeelConfig = {
      version: 1,
      routes: [route],
      budgets: [{ scope: 'tenant-day', match: fleetTenant, micros: options.budgetMicros }],
      // Short, so a dead worker's reservations are booked within the drill.
      budgetReservationExpiryMs: 3_000,
    };
    const configPath = join(folder, 'keel.config.json');
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    const dayBefore = new Date().toISOString().slice(0, 10);

    // The queue, written by a Keel that only enqueues (same agent and config, so the same config hash).
    const enqueuer = await createKeel({ database: cluster.url, config: configPath, agents: [fleetAgent], environment: childEnvironment() });
    try {
      for (let start = 0; start < options.runs; start += 100) {
        const batch = Array.from({ length: Math.min(100, options.runs - start) }, (_, offset) => start + offset);
        await Promise.all(batch.map((index) => enqueuer.enqueue(fleetTask, { message: fleetMessage(index) }, { principal: `user:${index % 40}`, tenant: fleetTenant })));
      }
    } finally {
      await enqueuer.close();
    }
    log(`enqueued ${options.runs} runs in ${Math.round(performance.now() - began)} ms`);
    if (options.rateLimit !== undefined) await auditRateLimitGrants(cluster.url);

    let settled = 0;
    const abandoned: string[] = [];
    let killed: string | undefined;
    let restartedAfterSettled: number | undefined;
    let restart: Promise<void> | undefined;
    let replacementUp = true;
    const disruptions = () => {
      const fraction = settled / options.runs;
      if (options.killAt !== undefined && killed === undefined && fraction >= options.killAt) {
        const victim = workers[1] ?? workers[0];
        if (victim === undefined) return;
        killed = victim.name;
        victim.child.kill('SIGKILL');
        log(`SIGKILL ${victim.name} after ${settled} settled`);
        if (options.replaceKilled === true) {
          const replacement = startWorker(`worker-${workers.length + 1}`);
          workers.push(replacement);
          // A worker that starts while the database is down stops at once, as it should; the drill
          // restarts PostgreSQL only once the replacement has connected, so it rides the restart out.
          replacementUp = false;
          void Promise.race([replacement.ready, replacement.exited]).then(() => (replacementUp = true));
        }
      }
      if (options.restartAt !== undefined && restart === undefined && fraction >= options.restartAt && replacementUp) {
        restartedAfterSettled = settled;
        log(`restarting PostgreSQL after ${settled} settled`);
        const restartBegan = performance.now();
        restart = cluster.restart('fast').then(() => log(`PostgreSQL back after ${Math.round(performance.now() - restartBegan)} ms`));
        // Awaited once the runs are done; marked handled now, so a failed restart fails the drill there.
        void restart.catch(() => undefined);
      }
    };
    const startWorker = (name: string): Worker => {
      const args = [launcher, 'worker', '--db', cluster.url, '--tasks', tasksModule, '--config', configPath, '--concurrency', String(options.concurrency)];
      const faults = name === 'worker-1' && options.failingWorker !== undefined ? { KEEL_FLEET_FAULTS: JSON.stringify(options.failingWorker.faults) } : {};
      const child = spawn(process.execPath, args, { cwd: folder, env: { ...childEnvironment(), ...faults } });
      let stdout = '';
      let stderr = '';
      let count = 0;
      let announce: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (announce = resolve));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const lines = stdout.split('\n');
        stdout = lines.pop() ?? '';
        for (const line of lines) {
          const serving = /^keel worker (\S+) serving/.exec(line);
          if (serving !== null) {
            worker.id = serving[1];
            announce();
          }
          if (line.startsWith('left ')) abandoned.push(`${name}: ${line}`);
          if (/^(ok|degraded|escalated|failed|waiting) +\S+/.test(line)) {
            count += 1;
            settled += 1;
            disruptions();
          }
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<WorkerExit>((resolve) => child.once('close', (code, signal) => resolve({ name, code, signal, settled: count, stderr })));
      const worker: Worker = { name, id: undefined, child, ready, exited };
      return worker;
    };

    const drainBegan = performance.now();
    for (let index = 0; index < options.workers; index += 1) workers.push(startWorker(`worker-${index + 1}`));
    await Promise.all(workers.map((worker) => Promise.race([worker.ready, worker.exited])));

    // Done when no run is queued or running: every run is in an end state or waiting for a person.
    const store = await openStore({ database: cluster.url, create: false, environment: {} });
    try {
      let open = options.runs;
      let polls = 0;
      while (open > 0) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        polls += 1;
        try {
          open = (await store.listRuns({ statuses: ['queued', 'running'], limit: options.runs })).length;
        } catch {
          // The server is restarting; ask again.
        }
        if (polls % 20 === 0) log(`${settled} settled lines, ${open} runs open`);
        if (workers.every((worker) => worker.child.exitCode !== null || worker.child.signalCode !== null)) throw new Error(`every worker ended with ${open} runs open`);
      }
      const drainMs = performance.now() - drainBegan;
      await restart;
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
      const workerExits = await Promise.all(workers.map((worker) => worker.exited));

      const runs = await allRuns(store);
      const statuses: Record<string, number> = {};
      const failedReasons: string[] = [];
      const reasons: Record<string, number> = {};
      const modelCalls: ModelCallEvent[] = [];
      const chainFailures: string[] = [];
      let journalMicros = 0;
      const reservationBills = { count: 0, micros: 0 };
      // What the journals billed for each reservation: its step's end in the execution that reserved it, or a reservation-bill.
      const billedByReservation = new Map<string, number>();
      let chainsVerified = 0;
      const interruptedModelSteps = { count: 0, reservedMicros: 0 };
      const grantedMs: number[] = [];
      const breakerOpens: FleetReport['breakerOpens'] = [];
      const breakerTransitions: FleetReport['breakerTransitions'] = [];
      const attempts: AttemptEvent[] = [];
      const workerNames = new Map(workers.map((worker) => [worker.id ?? worker.name, worker.name]));
      for (const run of runs) {
        statuses[run.status] = (statuses[run.status] ?? 0) + 1;
        if (run.status === 'failed') failedReasons.push(run.reason ?? '');
        if (run.reason !== null) {
          const kind = `${run.status}: ${run.reason.slice(0, 200)}`;
          reasons[kind] = (reasons[kind] ?? 0) + 1;
        }
        let events;
        try {
          events = (await loadRun(store, run.id)).events;
          chainsVerified += 1;
        } catch (error) {
          chainFailures.push(`${run.id}: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
        // Model steps by (epoch, step): started, ended, and what their budget decision reserved.
        const open = new Map<string, { startedMs: number; reservedMicros: number }>();
        // Events belong to the worker of the last run-resume before them.
        let executor = '';
        // This execution's reservations whose step has not ended, by step (the latest last: a step's end bills it).
        let reservationsOpen = new Map<number, string[]>();
        for (const event of events) {
          const timeMs = Date.parse(event.time);
          if (event.type === 'run-resume') {
            executor = workerNames.get(event.data.worker) ?? event.data.worker;
            reservationsOpen = new Map();
          }
          if (event.type === 'budget-decision' && event.data.outcome === 'reserved' && event.data.reservationId !== undefined) {
            reservationsOpen.set(event.data.step, [...(reservationsOpen.get(event.data.step) ?? []), event.data.reservationId]);
          }
          if (event.type === 'step-end') {
            // One model per call on the drill's route unless a fallback: the earlier ones failed, given back at 0.
            const ids = reservationsOpen.get(event.data.step) ?? [];
            ids.forEach((reservationId, index) => billedByReservation.set(reservationId, index === ids.length - 1 ? (event.data.cost?.micros ?? 0) : 0));
            reservationsOpen.delete(event.data.step);
          }
          if (event.type === 'reservation-bill') {
            billedByReservation.set(event.data.reservationId, event.data.cost.micros);
            reservationBills.count += 1;
            reservationBills.micros += event.data.cost.micros;
            journalMicros += event.data.cost.micros;
          }
          if (event.type === 'route-decision') grantedMs.push(timeMs);
          if (event.type === 'breaker-transition') breakerTransitions.push({ timeMs, worker: executor, breaker: event.data.breaker, from: event.data.from, to: event.data.to });
          if (event.type === 'breaker-transition' && event.data.to === 'open') breakerOpens.push({ timeMs, worker: executor, breaker: event.data.breaker });
          if (event.type === 'model-attempt-end') attempts.push({ timeMs, worker: executor, modelId: event.data.modelId, outcome: event.data.outcome, errorCode: event.data.error?.code });
          if (event.type === 'step-start' && event.data.kind === 'model-call') open.set(`${event.data.epoch}:${event.data.step}`, { startedMs: Date.parse(event.time), reservedMicros: 0 });
          if (event.type === 'budget-decision' && event.data.outcome === 'reserved') {
            for (const [key, step] of open) if (key.endsWith(`:${event.data.step}`)) step.reservedMicros = event.data.reservedMicros;
          }
          if (event.type === 'step-end' && event.data.kind === 'model-call') {
            const key = `${event.data.epoch}:${event.data.step}`;
            const started = open.get(key);
            open.delete(key);
            const cost = event.data.cost?.micros ?? 0;
            journalMicros += cost;
            modelCalls.push({ runId: run.id, startedMs: started?.startedMs ?? Date.parse(event.time), costMicros: cost });
          }
        }
        for (const step of open.values()) {
          interruptedModelSteps.count += 1;
          interruptedModelSteps.reservedMicros += step.reservedMicros;
        }
      }

      const dayAfter = new Date().toISOString().slice(0, 10);
      // Read past every expiry, so reservations nobody will settle count as the spend they became.
      const readAt = Date.now() + 60_000;
      const book = store.budgets;
      if (book === undefined) throw new Error(`${store.location} keeps no budget accounts`);
      const accounts = await Promise.all([...new Set([dayBefore, dayAfter])].map((day) => book.readBudget(`tenant:${fleetTenant}:day:${day}`, readAt)));
      const holds = await unsettledReservations(cluster.url);
      const unsettledHolds = { count: holds.length, micros: holds.reduce((sum, hold) => sum + hold.micros, 0) };
      const unsettledAgainstJournals = { excessMicros: 0, unnamed: 0 };
      for (const hold of holds) {
        const billed = billedByReservation.get(hold.reservationId);
        if (billed === undefined) unsettledAgainstJournals.unnamed += 1;
        unsettledAgainstJournals.excessMicros += hold.micros - (billed ?? 0);
      }
      const limiterGrantsMs = options.rateLimit === undefined ? [] : await rateLimitGrants(cluster.url);
      return {
        enqueued: options.runs,
        runs: runs.length,
        wallMs: Math.round(performance.now() - began),
        drainMs: Math.round(drainMs),
        statuses,
        failedReasons,
        reasons,
        budgetMicros: options.budgetMicros,
        ledgerSpentMicros: accounts.reduce((sum, account) => sum + account.spent.micros, 0),
        ledgerReservedMicros: accounts.reduce((sum, account) => sum + account.reserved.micros, 0),
        maxDaySpentMicros: Math.max(...accounts.map((account) => account.spent.micros)),
        journalMicros,
        reservationBills,
        modelCalls,
        rateLimit: options.rateLimit,
        grantedMs: grantedMs.sort((left, right) => left - right),
        limiterGrantsMs,
        breaker: options.failingWorker?.breaker,
        failingWorker: options.failingWorker === undefined ? undefined : 'worker-1',
        breakerOpens: breakerOpens.sort((left, right) => left.timeMs - right.timeMs),
        breakerTransitions: breakerTransitions.sort((left, right) => left.timeMs - right.timeMs),
        attempts: attempts.sort((left, right) => left.timeMs - right.timeMs),
        unsettledHolds,
        unsettledAgainstJournals,
        interruptedModelSteps,
        chainsVerified,
        chainFailures,
        workerExits,
        abandoned,
        killed,
        restartedAfterSettled,
      };
    } finally {
      await store.close();
    }
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await cluster.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * A copy of every call the store's rate limiter grants, with the limiter's own time: its window
 * rows are pruned as they age out, so the drill keeps them in a table of its own to check the
 * limit by the clock that enforced it.
 */
async function auditRateLimitGrants(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(`CREATE SCHEMA fleet_audit;
      CREATE TABLE fleet_audit.grants (limit_key text NOT NULL, hit_ms bigint NOT NULL);
      CREATE FUNCTION fleet_audit.copy_grant() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO fleet_audit.grants VALUES (NEW.limit_key, NEW.hit_ms); RETURN NEW; END $$;
      CREATE TRIGGER copy_grant AFTER INSERT ON keel.rate_limit_hits FOR EACH ROW EXECUTE FUNCTION fleet_audit.copy_grant();`);
  });
}

async function rateLimitGrants(url: string): Promise<number[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ hit_ms: string }>(`SELECT hit_ms FROM fleet_audit.grants WHERE limit_key = $1 ORDER BY hit_ms`, [`model:fleet:tenant:${fleetTenant}`]);
    return rows.map((row) => Number(row.hit_ms));
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Holds still in the book (schema `keel`): a settled hold is deleted, so these were never settled. */
async function unsettledReservations(url: string): Promise<{ reservationId: string; micros: number }[]> {
  return withClient(url, async (client) => {
    // A hold is one row per scope; the drill's calls fall under one scope (the tenant's day).
    const { rows } = await client.query<{ reservation_id: string; micros: string }>('SELECT reservation_id, micros FROM keel.budget_holds');
    return rows.map((row) => ({ reservationId: row.reservation_id, micros: Number(row.micros) }));
  });
}

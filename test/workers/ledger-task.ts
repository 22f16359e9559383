/**
 * The multi-worker test's workload: a three-step task whose every *execution* of step work is
 * written to a ledger in PostgreSQL (same database as the journal, its own schema). Rows are plain
 * inserts with no unique constraints, so a step run twice, by one worker or by two, shows up as a
 * second row instead of being hidden by the database.
 *
 * Steps, in order:
 * - `prepare`: idempotent (may be re-run after a takeover).
 * - `effect`: a tool call that is NOT idempotent: it inserts one row into `effects`. An unknown
 *   outcome after a crash must escalate the run, never re-run the insert.
 * - `finish`: idempotent.
 *
 * A run's input may name a point where the worker pauses for `holdMs` (a worker option, so the
 * test's first worker can sit inside a step while holding the lease and the second passes through).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { defineTask } from '../../src/engine/index.ts';
import type { RunContext, StepInfo, TaskDefinition } from '../../src/engine/index.ts';
import { quoteIdentifier } from '../../src/store/index.ts';

export const ledgerTaskName = 'ledger';

export const ledgerSteps = ['prepare', 'effect', 'finish'] as const;
export type LedgerStep = (typeof ledgerSteps)[number];
export const idempotentSteps: ReadonlySet<string> = new Set<LedgerStep>(['prepare', 'finish']);

/** Where a worker with a non-zero `holdMs` pauses: inside prepare, inside effect before or after its insert, inside finish. */
export type HoldAt = 'prepare' | 'effect-before' | 'effect-after' | 'finish';

export function stepOfHold(hold: HoldAt): LedgerStep {
  return hold === 'effect-before' || hold === 'effect-after' ? 'effect' : hold;
}

// Type aliases, not interfaces: task input and output must be assignable to JsonValue.
export type LedgerInput = { index: number; hold: HoldAt | null };
export type LedgerOutput = { index: number; effect: number; finished: boolean };

export interface ExecutionRow {
  id: number;
  runId: string;
  step: string;
  worker: string;
  idempotencyKey: string;
  at: Date;
}

export interface EffectRow {
  id: number;
  runId: string;
  worker: string;
  idempotencyKey: string;
  at: Date;
}

export interface HoldRow {
  runId: string;
  step: string;
  worker: string;
  at: Date;
}

/** The side-effect database: executions of step work, the non-idempotent effects, and holds in progress. */
export class Ledger {
  readonly #pool: Pool;
  readonly #schema: string;

  private constructor(pool: Pool, schema: string) {
    this.#pool = pool;
    this.#schema = quoteIdentifier(schema);
  }

  static open(url: string, schema: string, poolSize = 4): Ledger {
    const pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000, application_name: 'keel-ledger' });
    pool.on('error', () => undefined);
    return new Ledger(pool, schema);
  }

  /** Creates the schema and its tables (run once, by the test, before any worker starts). */
  async create(): Promise<void> {
    const schema = this.#schema;
    await this.#pool.query(`CREATE SCHEMA ${schema}`);
    await this.#pool.query(
      `CREATE TABLE ${schema}.executions (id bigserial PRIMARY KEY, run_id text NOT NULL, step text NOT NULL, worker text NOT NULL,
         idempotency_key text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await this.#pool.query(
      `CREATE TABLE ${schema}.effects (id bigserial PRIMARY KEY, run_id text NOT NULL, worker text NOT NULL,
         idempotency_key text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await this.#pool.query(
      `CREATE TABLE ${schema}.holds (run_id text NOT NULL, step text NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
  }

  async recordExecution(runId: string, step: LedgerStep, worker: string, idempotencyKey: string): Promise<void> {
    await this.#pool.query(`INSERT INTO ${this.#schema}.executions (run_id, step, worker, idempotency_key) VALUES ($1, $2, $3, $4)`, [
      runId,
      step,
      worker,
      idempotencyKey,
    ]);
  }

  /** Not idempotent: every call inserts another row. Returns the row's id. */
  async recordEffect(runId: string, worker: string, idempotencyKey: string): Promise<number> {
    const result = await this.#pool.query<{ id: string }>(
      `INSERT INTO ${this.#schema}.effects (run_id, worker, idempotency_key) VALUES ($1, $2, $3) RETURNING id`,
      [runId, worker, idempotencyKey],
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new Error(`ledger: effect insert for ${runId} returned nothing`);
    return Number(id);
  }

  async recordHold(runId: string, step: LedgerStep, worker: string): Promise<void> {
    await this.#pool.query(`INSERT INTO ${this.#schema}.holds (run_id, step, worker) VALUES ($1, $2, $3)`, [runId, step, worker]);
  }

  async executions(): Promise<ExecutionRow[]> {
    const result = await this.#pool.query<{ id: string; run_id: string; step: string; worker: string; idempotency_key: string; at: Date }>(
      `SELECT id, run_id, step, worker, idempotency_key, at FROM ${this.#schema}.executions ORDER BY id`,
    );
    return result.rows.map((row) => ({ id: Number(row.id), runId: row.run_id, step: row.step, worker: row.worker, idempotencyKey: row.idempotency_key, at: row.at }));
  }

  async effects(): Promise<EffectRow[]> {
    const result = await this.#pool.query<{ id: string; run_id: string; worker: string; idempotency_key: string; at: Date }>(
      `SELECT id, run_id, worker, idempotency_key, at FROM ${this.#schema}.effects ORDER BY id`,
    );
    return result.rows.map((row) => ({ id: Number(row.id), runId: row.run_id, worker: row.worker, idempotencyKey: row.idempotency_key, at: row.at }));
  }

  async holds(): Promise<HoldRow[]> {
    const result = await this.#pool.query<{ run_id: string; step: string; worker: string; at: Date }>(
      `SELECT run_id, step, worker, at FROM ${this.#schema}.holds ORDER BY at`,
    );
    return result.rows.map((row) => ({ runId: row.run_id, step: row.step, worker: row.worker, at: row.at }));
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

export interface LedgerTaskOptions {
  /** Written into every ledger row: the engine's worker id. */
  worker: string;
  /** How long to pause at a run's `hold` point; 0 passes straight through. */
  holdMs: number;
}

/** A few milliseconds of "work", aborted with the step's signal. */
function work(info: StepInfo): Promise<void> {
  return sleep(2 + Math.floor(Math.random() * 5), undefined, { signal: info.signal });
}

export function ledgerTask(ledger: Ledger, options: LedgerTaskOptions): TaskDefinition<LedgerInput, LedgerOutput> {
  const { worker, holdMs } = options;
  const pauseIf = async (context: RunContext, input: LedgerInput, at: HoldAt, info: StepInfo): Promise<void> => {
    if (input.hold !== at || holdMs <= 0) return;
    await ledger.recordHold(context.runId, stepOfHold(at), worker);
    await sleep(holdMs, undefined, { signal: info.signal });
  };
  return defineTask({
    name: ledgerTaskName,
    version: '1',
    run: async (context: RunContext, input: LedgerInput): Promise<LedgerOutput> => {
      await context.step(
        'prepare',
        async (info) => {
          await ledger.recordExecution(context.runId, 'prepare', worker, info.idempotencyKey);
          await work(info);
          await pauseIf(context, input, 'prepare', info);
          return { index: input.index };
        },
        { idempotent: true, input: { index: input.index } },
      );
      const effect = await context.tool('effect', { index: input.index }, async (_args, info) => {
        await ledger.recordExecution(context.runId, 'effect', worker, info.idempotencyKey);
        await work(info);
        await pauseIf(context, input, 'effect-before', info);
        const id = await ledger.recordEffect(context.runId, worker, info.idempotencyKey);
        await pauseIf(context, input, 'effect-after', info);
        return id;
      });
      const finished = await context.step(
        'finish',
        async (info) => {
          await ledger.recordExecution(context.runId, 'finish', worker, info.idempotencyKey);
          await work(info);
          await pauseIf(context, input, 'finish', info);
          return true;
        },
        { idempotent: true },
      );
      return { index: input.index, effect, finished };
    },
  });
}

import { openAuditLog } from '../audit/index.ts';
import type { OpenedAuditLog } from '../audit/index.ts';
import { loadConfig, parseConfig } from '../config/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { BudgetRule } from '../cost/index.ts';
import { Engine } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { RunAbandoned, RunOutcome, TaskDefinition, WorkOptions } from '../engine/index.ts';
import type { JsonValue, RunRecordV1, StoreV1 } from '../spec/index.ts';
import type { RedisLimits } from '../redis/index.ts';
import { openStore } from '../store/open-store.ts';
import type { AgentRuntime } from './agent-runtime.ts';
import { createAgentRuntime } from './agent-runtime.ts';
import type { AgentDefinition } from './define-agent.ts';
import { isAgentDefinition } from './agent-brand.ts';

export interface KeelOptions {
  /** A store you opened; otherwise `database` is opened (and closed by `close()`). */
  store?: StoreV1;
  /** A SQLite file or a postgres:// URL; default KEEL_DB, then `.keel/keel.db`. */
  database?: string;
  /** The config file's path, or its content: routes, prices, budgets, SLAs, alerts. Checked whole at start. */
  config?: string | KeelConfig;
  /** Agents and plain tasks this process serves. */
  agents?: readonly (AgentDefinition<JsonValue> | TaskDefinition<never, JsonValue>)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- task inputs are invariant; the engine only passes JSON through
  tasks?: readonly TaskDefinition<any, any>[];
  /** Where API keys and endpoints are read from; default process.env. */
  environment?: Record<string, string | undefined>;
  workerId?: string;
  leaseMs?: number;
  /** Keep a budget ledger even when no budget is configured, for budgets a call brings (the gateway's keys). */
  callBudgets?: boolean;
}

export interface RunRequestOptions {
  /** Who the run acts for. Default `anonymous`. */
  principal?: string;
  /** Whose data it may touch. Default `default`. */
  tenant?: string;
  runId?: string;
  /** What the run is tagged with for its life (project, feature, team), for `keel spend --by tag:NAME`: at most 16, names [A-Za-z0-9_.-]{1,64}, values 1-256 characters. */
  tags?: Record<string, string>;
}

/** One deployment of Keel in this process: its store, its governed models, the agents and tasks it serves. */
export interface Keel {
  readonly engine: Engine;
  readonly store: StoreV1;
  readonly runtime: AgentRuntime;
  /** The audit log runs are anchored in at their end, when a signing key is configured (config `audit`, KEEL_AUDIT_SIGNING_KEY_FILE). */
  readonly audit: OpenedAuditLog | undefined;
  /** Starts a run and executes it here to its end (or until it waits for a person). */
  run(task: string, input: JsonValue, request?: RunRequestOptions): Promise<RunOutcome>;
  /** Opens a run for any worker to pick up. */
  enqueue(task: string, input: JsonValue, request?: RunRequestOptions): Promise<string>;
  /** Continues one run from its journal. */
  resume(runId: string): Promise<RunOutcome | RunAbandoned>;
  /** Records a person's decision on what a run waits for, then continues it here. */
  decide(runId: string, decision: { decision: 'approve' | 'deny'; decider: string; reason?: string }): Promise<RunOutcome | RunAbandoned>;
  stop(runId: string, request: { by: string; reason: string }): Promise<RunRecordV1>;
  /** Serves runs until `signal` aborts (or, with `untilDrained`, until nothing is claimable). */
  work(options?: WorkOptions): Promise<void>;
  serves(task: string): boolean;
  close(): Promise<void>;
}

/**
 * The one entry point: opens the store, checks the config, binds every agent to this deployment's
 * governed models and limits, and gives back the engine that runs them.
 */
export async function createKeel(options: KeelOptions = {}): Promise<Keel> {
  const environment = options.environment ?? process.env;
  const config = typeof options.config === 'string' ? loadConfig(options.config) : options.config === undefined ? undefined : parseConfig(options.config, 'config');
  const agents: AgentDefinition[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see KeelOptions.tasks
  const tasks: TaskDefinition<any, any>[] = [...(options.tasks ?? [])];
  for (const entry of options.agents ?? []) {
    if (isAgentDefinition(entry)) agents.push(entry);
    else tasks.push(entry as TaskDefinition);
  }
  const agentBudgets: BudgetRule[] = agents.flatMap((agent) =>
    agent.declaration.limits?.budgetMicros === undefined ? [] : [{ scope: 'run' as const, match: agent.name, micros: agent.declaration.limits.budgetMicros }],
  );
  // Connected first: an unreachable Redis stops the start before createKeel opens a database of its own.
  const redis = await connectSharedLimits(environment);
  let store: StoreV1;
  try {
    store = options.store ?? (await openStore({ database: options.database, create: true, environment }));
  } catch (error) {
    await redis?.close();
    throw error;
  }
  const ownsStore = options.store === undefined;
  try {
    const shared = redis === undefined ? {} : { rateLimiter: redis.rateLimiter, breakers: redis.breakers, concurrency: redis.concurrency };
    const runtime = createAgentRuntime({ store, environment, agentBudgets, ...shared, ...(options.callBudgets === true ? { callBudgets: true } : {}), ...(config === undefined ? {} : { config }) });
    // Every agent's route is built now: an unknown provider, a missing key, an unpriced model or a
    // bad simulator setting stops the process at start, naming the agent, not at its first run.
    for (const agent of agents) {
      try {
        runtime.model(agent.declaration.model, { task: agent.name, ...(agent.declaration.simulator === undefined ? {} : { simulator: agent.declaration.simulator }) });
      } catch (error) {
        throw new KeelError('config-invalid', `agent ${agent.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    const audit = openAuditLog(store, config?.audit, environment);
    const engine = new Engine({
      store,
      tasks: [...tasks, ...agents.map((agent) => agent.task(runtime))],
      ...(audit === undefined ? {} : { afterRun: (runId: string) => audit.log.anchor([runId]) }),
      ...(options.workerId === undefined ? {} : { workerId: options.workerId }),
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    });
    const request = (values: RunRequestOptions = {}) => ({
      principal: values.principal ?? 'anonymous',
      tenant: values.tenant ?? 'default',
      ...(values.runId === undefined ? {} : { runId: values.runId }),
      ...(values.tags === undefined ? {} : { tags: values.tags }),
    });
    return {
      engine,
      store,
      runtime,
      audit,
      run: (task, input, values) => engine.start(task, input, request(values)),
      enqueue: (task, input, values) => engine.enqueue(task, input, request(values)),
      resume: (runId) => engine.resume(runId),
      decide: (runId, decision) => engine.decide(runId, decision),
      stop: (runId, stopRequest) => engine.stop(runId, stopRequest),
      work: (workOptions) => engine.work(workOptions),
      serves: (task) => engine.tasks.serves(task),
      close: async () => {
        engine.shutdown();
        await redis?.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    await redis?.close();
    if (ownsStore) await store.close();
    throw error;
  }
}

/**
 * Rate limits and breaker state on the Redis server KEEL_REDIS_URL names, when it is set: the
 * whole deployment's, whatever store each process uses; KEEL_REDIS_PREFIX (default `keel:`) keeps
 * deployments sharing a server apart. Loaded on demand, so a process without it never loads the
 * Redis client.
 */
async function connectSharedLimits(environment: Record<string, string | undefined>): Promise<RedisLimits | undefined> {
  const url = environment.KEEL_REDIS_URL;
  if (url === undefined || url === '') return undefined;
  const prefix = environment.KEEL_REDIS_PREFIX;
  const { connectRedisLimits } = await import('../redis/index.ts');
  return connectRedisLimits({ url, ...(prefix === undefined || prefix === '' ? {} : { prefix }) });
}

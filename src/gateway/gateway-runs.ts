import { randomUUID } from 'node:crypto';
import type { Engine, RunContext } from '../engine/index.ts';
import { defineTask } from '../engine/index.ts';
import { KeelError, toErrorData } from '../errors/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, JsonValue, PolicyEngineV1, StreamPartV1 } from '../spec/index.ts';
import type { GatewayFailure } from './gateway-failure.ts';
import { failureOfRun } from './gateway-failure.ts';
import type { CatalogModel } from './model-catalog.ts';
import type { RequestIdentity } from './request-identity.ts';

/** The wire format a request came in: also the name of its model step. */
export type GatewayApi = 'openai.chat.completions' | 'openai.responses' | 'anthropic.messages';

export interface GatewayCall {
  /** The run's id, from `newRunId()`: known before the run starts, so a stream can be named by it. */
  runId: string;
  api: GatewayApi;
  target: CatalogModel;
  options: GenerateOptionsV1;
  identity: RequestIdentity;
  /** Streams the answer to the client as it arrives; absent for a whole answer. */
  onPart?: (part: StreamPartV1) => void;
}

/** How a request's run ended: the answer, or what to tell the client. */
export type CallOutcome = { runId: string; result: GenerateResultV1 } | { runId: string; failure: GatewayFailure };

/** A run id made before the run starts, so a stream's first bytes can already name it. */
export function newRunId(): string {
  return `run_${randomUUID()}`;
}

/**
 * Every request is one journaled run of task `gateway:<model>`: the engine opens it, leases it and
 * ends it, and its one step is the durable `context.model(...)` call through the governed route, so
 * the budget is reserved before the call and the journal holds the request, every routing, budget
 * and attempt decision, the answer, its usage and its cost. The request itself stays in memory
 * (the run's input names the API, the model and whether it streams); the model step journals it.
 */
export class GatewayRuns {
  readonly #engine: Engine;
  readonly #policies: PolicyEngineV1 | undefined;
  readonly #calls = new Map<string, GatewayCall & { result?: GenerateResultV1 }>();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(engine: Engine, policies: PolicyEngineV1 | undefined) {
    this.#engine = engine;
    this.#policies = policies;
  }

  /** Opens the run and executes it here; resolves (never rejects) once it has ended. */
  start(call: GatewayCall): Promise<CallOutcome> {
    this.#register(call.target);
    const { runId } = call;
    this.#calls.set(runId, call);
    const input = { api: call.api, model: call.target.name, stream: call.onPart !== undefined };
    const done = this.#engine
      .start(call.target.task, input, { principal: call.identity.principal, tenant: call.identity.tenant, runId })
      .then(
        (outcome): CallOutcome => {
          const result = this.#calls.get(runId)?.result;
          if ((outcome.status === 'ok' || outcome.status === 'degraded') && result !== undefined) return { runId, result };
          return { runId, failure: failureOfRun(outcome.error, outcome.reason ?? `the run ended ${outcome.status}`) };
        },
        (error: unknown): CallOutcome => ({ runId, failure: failureOfRun(toErrorData(error), undefined) }),
      )
      .finally(() => {
        this.#calls.delete(runId);
        this.#inFlight.delete(done);
      });
    this.#inFlight.add(done);
    return done;
  }

  /** Resolves once every run started so far has ended (streams whose client left included). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #register(target: CatalogModel): void {
    if (this.#engine.tasks.serves(target.task)) return;
    this.#engine.tasks.register(
      defineTask({
        name: target.task,
        version: '1',
        config: { gateway: 1, model: target.name, route: target.route },
        run: (context) => this.#execute(context),
      }),
    );
  }

  async #execute(context: RunContext): Promise<JsonValue> {
    const call = this.#calls.get(context.runId);
    // Gateway runs are executed only by the process that received them, while it holds the request.
    if (call === undefined) throw new KeelError('internal', `gateway run ${context.runId} has no request in this process: the client that sent it is gone`);
    this.#authorize(context, call);
    const streaming = call.onPart === undefined ? undefined : { onPart: call.onPart };
    const result = await context.model(call.api, call.target.model, call.options, streaming);
    call.result = result;
    return { finishReason: result.finishReason, usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens } };
  }

  /** With a policy engine, `call-model` on `Model::"<name>"` is decided, and journaled, before the call. */
  #authorize(context: RunContext, call: GatewayCall): void {
    const policies = this.#policies;
    if (policies === undefined) return;
    const request = {
      principal: { type: 'User', id: context.principal, attributes: { tenant: context.tenant } },
      action: 'call-model',
      resource: { type: 'Model', id: call.target.name, attributes: { route: call.target.route } },
      context: { task: context.task, tenant: context.tenant },
    };
    const decision = policies.decide(request);
    context.record('policy-decision', {
      principal: context.principal,
      action: request.action,
      resource: `Model::${call.target.name}`,
      effect: decision.effect,
      policyIds: decision.policyIds,
      reason: decision.reason,
      engine: decision.engine,
      policySetVersion: decision.policySetVersion,
    });
    if (decision.effect !== 'allow') {
      throw new KeelError('policy-denied', `${context.principal} of tenant ${context.tenant} may not call model ${call.target.name}: ${decision.reason}`, {
        details: { policyIds: decision.policyIds, effect: decision.effect },
      });
    }
  }
}

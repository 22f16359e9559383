import { checkFailureContract } from '../contracts/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { sha256 } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { AgentDeclaration, AgentInput, AgentOutput } from './agent-declaration.ts';
import type { AgentRuntime } from './agent-runtime.ts';
import { agentBrand } from './agent-brand.ts';
import { runAgent } from './run-agent.ts';


/** A declared agent: becomes a durable task once a runtime (`createKeel`, `keel worker`) serves it. */
export interface AgentDefinition<Output extends JsonValue = JsonValue> {
  readonly [agentBrand]: true;
  readonly name: string;
  readonly version: string;
  readonly declaration: AgentDeclaration<Output>;
  /** The agent as a task of the engine, bound to the services of one deployment. */
  task(runtime: AgentRuntime): TaskDefinition<AgentInput, AgentOutput>;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Declares an agent. The declaration is checked here, so a mistake (a duplicate tool, a bad limit,
 * a failure contract for an unknown kind) stops the program at start, naming the field.
 */
export function defineAgent<Output extends JsonValue = JsonValue>(declaration: AgentDeclaration<Output>): AgentDefinition<Output> {
  const where = `agent ${typeof declaration.name === 'string' ? declaration.name : '(unnamed)'}`;
  const invalid = (problem: string) => new KeelError('config-invalid', `${where}: ${problem}`);
  if (typeof declaration.name !== 'string' || !namePattern.test(declaration.name)) throw invalid('name must be 1-64 letters, digits, `_`, `-` or `.`');
  if (typeof declaration.version !== 'string' || declaration.version.trim() === '') throw invalid('version must be a non-empty string');
  if (typeof declaration.model !== 'string' || declaration.model.trim() === '') throw invalid('model must name a route or a provider:model');
  if (typeof declaration.instructions !== 'string') throw invalid('instructions must be a string');
  const toolNames = new Set<string>();
  for (const tool of declaration.tools ?? []) {
    if (toolNames.has(tool.name)) throw invalid(`tool ${tool.name} is declared twice`);
    toolNames.add(tool.name);
  }
  for (const [field, value] of Object.entries(declaration.limits ?? {})) {
    const minimum = field === 'maxRepairs' || field === 'budgetMicros' ? 0 : 1;
    if (value !== undefined && (!Number.isSafeInteger(value) || value < minimum)) throw invalid(`limits.${field} must be an integer of at least ${minimum}, got ${String(value)}`);
  }
  if (declaration.onDenied !== undefined && !['tell-model', 'escalate', 'fail'].includes(declaration.onDenied)) {
    throw invalid(`onDenied must be tell-model, escalate or fail, got ${String(declaration.onDenied)}`);
  }
  if (declaration.failures !== undefined) checkFailureContract(declaration.failures);
  for (const source of declaration.context ?? []) {
    if ((source.load === undefined) === (source.retriever === undefined)) throw invalid(`context source ${source.name} needs exactly one of load and retriever`);
  }
  return {
    [agentBrand]: true,
    name: declaration.name,
    version: declaration.version,
    declaration,
    task: (runtime) => ({
      name: declaration.name,
      version: declaration.version,
      // What shapes behaviour is hashed into every run: change a prompt, a tool or a limit and the hash changes.
      config: agentConfig(declaration, runtime),
      ...(declaration.limits?.deadlineMs === undefined ? {} : { deadlineMs: declaration.limits.deadlineMs }),
      run: (context, input) => runAgent(context, input, declaration, runtime),
    }),
  };
}

function agentConfig(declaration: AgentDeclaration<JsonValue>, runtime: AgentRuntime): JsonValue {
  return {
    kind: 'agent',
    model: declaration.model,
    instructionsHash: sha256(declaration.instructions),
    tools: (declaration.tools ?? []).map((tool) => `${tool.name}@${tool.version}`),
    policySetVersion: declaration.policies?.policySetVersion ?? null,
    shadowPolicySetVersion: declaration.shadowPolicies?.policySetVersion ?? null,
    outputContract: declaration.output === undefined ? null : `${declaration.output.name}@${declaration.output.version}`,
    failureContract: declaration.failures?.point ?? null,
    onDenied: declaration.onDenied ?? 'tell-model',
    context: (declaration.context ?? []).map((source) => source.name),
    memory: { session: declaration.memory?.session === true, longTerm: declaration.memory?.longTerm === true },
    limits: { ...(declaration.limits ?? {}) },
    governanceConfigHash: runtime.configHash,
  };
}

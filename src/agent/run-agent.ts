/**
 * The one governed agent loop. Each turn the model is called through the governed route (budget
 * reserved, routing, retries, breakers, fallbacks); each tool call it proposes is decided before it
 * runs (tool-gate.ts, then callTool's scopes, schema, constraints, rate limits and approval rules)
 * and runs as a durable step with its idempotency key; the final answer passes the output contract
 * with bounded repair, under the failure contract. Every decision is a journal event, so a run
 * resumed in another process, or replayed months later, takes the same path.
 */
import type { ContextItem } from '../context/index.ts';
import type { Labels } from '../access/index.ts';
import { argumentLabels, checkIncoming, computeGrants, labels as makeLabels } from '../access/index.ts';
import type { AttemptOutcome } from '../contracts/index.ts';
import { defineFailureContract, generateWithContract, requestWithParameters, withFailureContract } from '../contracts/index.ts';
import type { RunContext } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { canonicalJson } from '../journal/index.ts';
import { memoryLabelsInRun, sealingToolResults } from '../redaction/index.ts';
import { Handoff, SessionMemory, memorySource } from '../memory/index.ts';
import { rememberTool } from './remember-tool.ts';
import type { GrantV1, GenerateOptionsV1, GenerateResultV1, JsonValue, MessageV1, ToolCallPartV1, ToolResultPartV1 } from '../spec/index.ts';
import { callTool, ToolRegistry } from '../tools/index.ts';
import type { ToolCallOutcome } from '../tools/index.ts';
import type { AgentDeclaration, AgentInput, AgentOutput, AgentTool, ResultLabels } from './agent-declaration.ts';
import { buildAgentContext } from './agent-context.ts';
import type { AgentRuntime } from './agent-runtime.ts';
import { toolGate } from './tool-gate.ts';

const defaults = { maxTurns: 8, maxCallsPerTool: 8, maxIdenticalCalls: 3, maxOutputTokens: 1024, maxRepairs: 2 };

/** Without a declared failure contract: a broken or refused answer goes to a person, an unsure one goes out marked. */
const defaultAnswerFailures = defineFailureContract<JsonValue>({
  point: 'answer',
  on: {
    malformed: { action: 'escalate', reason: 'the answer still broke its output contract after repairs' },
    'low-confidence': { action: 'degrade', confidence: 0.5, reason: 'the answer is less confident than its contract asks' },
    refusal: { action: 'escalate', reason: 'the model declined to answer' },
    timeout: { action: 'fail', reason: 'the model did not answer in time' },
    unavailable: { action: 'fail', reason: 'no model of the route could answer' },
  },
});

export function checkAgentInput(input: unknown): AgentInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new KeelError('agent-input-invalid', 'an agent run takes an object such as {"message": "…"}');
  const record = input as Record<string, unknown>;
  if (typeof record.message !== 'string' || record.message.trim() === '') throw new KeelError('agent-input-invalid', 'input.message must be a non-empty string');
  if (record.session !== undefined && typeof record.session !== 'string') throw new KeelError('agent-input-invalid', 'input.session must be a string');
  if (record.handoff !== undefined && typeof record.handoff !== 'string') throw new KeelError('agent-input-invalid', 'input.handoff must be a string');
  if (record.variables !== undefined && (typeof record.variables !== 'object' || record.variables === null || Array.isArray(record.variables))) {
    throw new KeelError('agent-input-invalid', 'input.variables must be an object');
  }
  return record as AgentInput;
}

function textOf(result: GenerateResultV1): string {
  return result.content
    .map((part) => (part.type === 'text' ? part.text : ''))
    .join('')
    .trim();
}

function argumentsOf(input: JsonValue): Record<string, JsonValue> {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
}

/** The access component's labels of a context item; what it leaves out: the run's tenant, internal, untrusted. */
function itemLabels(item: ContextItem, tenant: string): Labels {
  const { tenants, classification, origins } = item.labels;
  return makeLabels({ tenants: tenants.length > 0 ? tenants : [tenant], classification: classification ?? 'internal', origins: origins.length > 0 ? origins : ['untrusted'] });
}

export async function runAgent(context: RunContext, rawInput: unknown, declaration: AgentDeclaration, runtime: AgentRuntime): Promise<AgentOutput> {
  const input = checkAgentInput(rawInput);
  const limits = { ...defaults, ...declaration.limits };
  const model = runtime.model(declaration.model, { task: context.task, ...(declaration.simulator === undefined ? {} : { simulator: declaration.simulator }) });
  const declared = declaration.tools ?? [];
  const tools = new Map<string, AgentTool>([...declared, ...(declaration.memory?.longTerm === true ? [rememberTool(runtime, context)] : [])].map((tool) => [tool.name, tool]));
  const registry = new ToolRegistry();
  for (const tool of tools.values()) registry.register(sealingToolResults(context, tool));
  // The agent's grant is its declared tools: any other name is unknown to its registry and refused before any policy runs.
  const grantedScopes = [...new Set([...tools.values()].flatMap((tool) => tool.scopes))].sort();
  const offered = registry.definitionsFor(tools.keys());

  const grants = declaration.grants === undefined ? undefined : await runGrants(context, input, declaration);
  const prepared = await buildAgentContext(context, input, declaration, runtime, limits.maxOutputTokens);
  const messages: MessageV1[] = prepared.messages;
  const provenance = prepared.items.map((item) => ({ source: `${item.source}:${item.id}`, text: item.text, labels: itemLabels(item, context.tenant) }));
  const callsPerTool = new Map<string, number>();
  const identicalCalls = new Map<string, number>();
  const toolCalls: AgentOutput['toolCalls'] = [];
  const authorize = (argumentsLabels: Record<string, Labels>) =>
    toolGate(
      {
        context,
        argumentLabels: argumentsLabels,
        grantedScopes,
        policies: declaration.policies,
        shadowPolicies: declaration.shadowPolicies,
        ...(grants === undefined ? {} : { grants }),
        // A snapshot: the monitor judges the call on what the model had read when it proposed it.
        provenance: [...provenance],
        controlFlow: declaration.controlFlow ?? 'enforce',
        ...(declaration.resolvers === undefined ? {} : { resolvers: declaration.resolvers }),
      },
      tools,
    );

  for (let turn = 1; turn <= limits.maxTurns; turn += 1) {
    const request: GenerateOptionsV1 = { messages, maxOutputTokens: limits.maxOutputTokens, temperature: 0 };
    if (offered.length > 0) request.tools = offered;
    if (declaration.output !== undefined) request.responseFormat = { type: 'json', schema: declaration.output.jsonSchema, name: declaration.output.name };
    const onStream = declaration.onStream;
    const label = `turn-${turn}`;
    const result = await context.model(label, model, request, onStream === undefined ? undefined : { onPart: (part) => onStream({ runId: context.runId, turn: label, part }) });
    messages.push({ role: 'assistant', content: result.content });
    const proposed = result.content.filter((part): part is ToolCallPartV1 => part.type === 'tool-call');
    if (proposed.length === 0) {
      const output = await finalAnswer(context, declaration, model, `turn-${turn}`, request, result, limits.maxRepairs);
      await rememberTurn(context, declaration, runtime, input, output.answer);
      await handOff(context, declaration, runtime, input, output);
      return { ...output, turns: turn, toolCalls };
    }

    const results: ToolResultPartV1[] = [];
    for (const call of proposed) {
      const refusal = guardCall(context, call, limits, callsPerTool, identicalCalls);
      if (refusal !== undefined) {
        toolCalls.push({ tool: call.toolName, status: 'refused-by-guard' });
        results.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output: { error: refusal }, isError: true });
        continue;
      }
      const gate = authorize(argumentLabels(provenance, call.input));
      let outcome: ToolCallOutcome = await callTool({ registry, rateLimiter: runtime.rateLimiter, run: context, name: call.toolName, args: call.input, grantedScopes, authorize: gate });
      if (outcome.status === 'approval-required') {
        // The run waits, durably, for a person; a denial comes back as the tool's refusal.
        const decision = await awaitApproval(context, call, outcome.reason);
        outcome =
          decision.approved
            ? await callTool({ registry, rateLimiter: runtime.rateLimiter, run: context, name: call.toolName, args: call.input, grantedScopes, authorize: gate, approvedBy: decision.decider })
            : { status: 'denied', tool: call.toolName, reason: 'policy-denied', policyIds: ['human-decision'], message: decision.message };
      }
      toolCalls.push({ tool: call.toolName, status: outcome.status });
      results.push(await settleCall(context, declaration, tools, call, outcome, provenance, turn));
    }
    messages.push({ role: 'tool', content: results });
  }
  const detail = `the agent reached no answer within ${limits.maxTurns} turns`;
  context.record('loop-guard', { guard: 'max-turns', limit: limits.maxTurns, action: 'escalated', detail });
  return context.escalate(detail);
}

/** Loop guards: a call past the per-tool limit is refused (the model is told); the same call repeated escalates. */
function guardCall(context: RunContext, call: ToolCallPartV1, limits: typeof defaults, perTool: Map<string, number>, identical: Map<string, number>): string | undefined {
  const key = `${call.toolName}\u0000${canonicalJson(call.input)}`;
  const repeats = (identical.get(key) ?? 0) + 1;
  identical.set(key, repeats);
  if (repeats >= limits.maxIdenticalCalls) {
    const detail = `${call.toolName} was proposed ${repeats} times with the same arguments: the agent is looping`;
    context.record('loop-guard', { guard: 'identical-calls', limit: limits.maxIdenticalCalls, tool: call.toolName, action: 'escalated', detail });
    context.escalate(detail);
  }
  const count = (perTool.get(call.toolName) ?? 0) + 1;
  perTool.set(call.toolName, count);
  if (count > limits.maxCallsPerTool) {
    const detail = `${call.toolName} may be called at most ${limits.maxCallsPerTool} times in a run`;
    context.record('loop-guard', { guard: 'max-calls-per-tool', limit: limits.maxCallsPerTool, tool: call.toolName, action: 'told-model', detail });
    return detail;
  }
  return undefined;
}

async function awaitApproval(context: RunContext, call: ToolCallPartV1, reason: string): Promise<{ approved: true; decider: string } | { approved: false; message: string }> {
  try {
    const approval = await context.approval(`approval:${call.toolName}`, { reason: `${call.toolName}: ${reason}`, details: { tool: call.toolName, arguments: call.input } });
    return { approved: true, decider: approval.decider };
  } catch (error) {
    if (error instanceof KeelError && error.code === 'approval-denied') return { approved: false, message: error.message };
    throw error;
  }
}

/** Turns an outcome into what the model sees next, or ends the run as the agent declares. */
async function settleCall(
  context: RunContext,
  declaration: AgentDeclaration,
  tools: ReadonlyMap<string, AgentTool>,
  call: ToolCallPartV1,
  outcome: ToolCallOutcome,
  provenance: { source: string; text: string; labels: Labels }[],
  turn: number,
): Promise<ToolResultPartV1> {
  const base = { type: 'tool-result' as const, toolCallId: call.toolCallId, toolName: call.toolName };
  switch (outcome.status) {
    case 'ok': {
      const tool = tools.get(call.toolName);
      const args = argumentsOf(call.input);
      const run = { runId: context.runId, task: context.task, tenant: context.tenant, principal: context.principal };
      const declared = tool?.access?.resultLabels?.(outcome.output, args, run) ?? {};
      const resource = tool?.access?.resource?.(args, run);
      const defaultOrigin = tool?.sideEffect === 'read' ? 'untrusted' : 'system';
      const labelsOf = (partLabels: ResultLabels) =>
        makeLabels({
          tenants: partLabels.tenants ?? declared.tenants ?? [resource?.tenant ?? context.tenant],
          classification: partLabels.classification ?? declared.classification ?? 'internal',
          origins: partLabels.origins ?? declared.origins ?? [defaultOrigin],
          ...((partLabels.subjects ?? declared.subjects) === undefined ? {} : { subjects: partLabels.subjects ?? declared.subjects ?? [] }),
        });
      const resultLabels = labelsOf({});
      const source = `tool-result:${call.toolName}#${turn}`;
      const parts = (declared.parts ?? []).map((part) => ({ path: part.path, labels: labelsOf(part.labels) }));
      for (const labels of [resultLabels, ...parts.map((part) => part.labels)]) {
        const incoming = checkIncoming(labels, context.tenant, source);
        if (incoming.effect !== 'allow') context.escalate(`blocked by policy [${incoming.policyIds.join(', ')}]: ${incoming.reason}`);
      }
      recordRelabelling(context, call.toolName, source, defaultOrigin, [{ path: [], labels: resultLabels }, ...parts]);
      // Each labelled part is its own provenance item; the rest of the result keeps the whole result's labels.
      provenance.push({ source, text: canonicalJson(withoutParts(outcome.output, parts.map((part) => part.path))), labels: resultLabels });
      for (const part of parts) provenance.push({ source: `${source}/${part.path.join('/')}`, text: canonicalJson(valueAt(outcome.output, part.path) ?? null), labels: part.labels });
      return { ...base, output: outcome.output };
    }
    case 'arguments-invalid':
      return { ...base, output: { error: outcome.message }, isError: true };
    case 'denied':
    case 'approval-required': {
      const message = outcome.status === 'denied' ? `${call.toolName} was refused (${outcome.reason}${outcome.policyIds === undefined || outcome.policyIds.length === 0 ? '' : `: ${outcome.policyIds.join(', ')}`}): ${outcome.message}` : `${call.toolName} needs approval: ${outcome.reason}`;
      // The tool's own failure contract for a refusal first, then the agent's.
      const handling = tools.get(call.toolName)?.access?.onDenied ?? declaration.onDenied ?? 'tell-model';
      if (handling === 'escalate') context.escalate(`blocked by policy: ${message}`);
      if (handling === 'fail') throw new KeelError('tool-denied', message);
      return { ...base, output: { error: message }, isError: true };
    }
    case 'failed': {
      // A failed read is information the model can work around; a failed effect is not a thing to talk past.
      const tool = tools.get(call.toolName);
      if (tool?.sideEffect === 'read') return { ...base, output: { error: `${call.toolName} failed: ${outcome.error.message}` }, isError: true };
      throw new KeelError(outcome.error.code === 'tool-timeout' ? 'tool-timeout' : 'tool-error', `${call.toolName} failed: ${outcome.error.message}`);
    }
  }
}

async function finalAnswer(
  context: RunContext,
  declaration: AgentDeclaration,
  model: { provider: string; modelId: string } & Parameters<RunContext['model']>[1],
  label: string,
  request: GenerateOptionsV1,
  result: GenerateResultV1,
  maxRepairs: number,
): Promise<{ answer: string; output: JsonValue }> {
  const contract = declaration.output;
  if (contract === undefined) {
    const answer = textOf(result);
    if (answer === '') throw new KeelError('agent-answer-empty', `the model ended ${label} with neither text nor a tool call`);
    return { answer, output: null };
  }
  const failures = (declaration.failures ?? defaultAnswerFailures);
  const value = await withFailureContract(
    context,
    failures,
    async (parameters): Promise<AttemptOutcome<JsonValue>> => {
      const attemptLabel = parameters.attempt === 1 ? label : `${label}-retry-${parameters.attempt - 1}`;
      const attemptModel = parameters.model ?? model;
      const checked = await generateWithContract(
        async (step, stepRequest) => (step === label && parameters.attempt === 1 ? result : context.model(step, attemptModel, stepRequest)),
        parameters.attempt === 1 ? request : requestWithParameters(request, parameters),
        contract,
        {
          label: attemptLabel,
          maxRepairs,
          onCheck: (check) => {
            const repair = check.step.startsWith(`${attemptLabel}-repair-`) ? Number(check.step.slice(`${attemptLabel}-repair-`.length)) : 0;
            context.record('output-validation', {
              contract: check.contract,
              version: check.contractVersion,
              attempt: repair + 1,
              ok: check.violations.length === 0,
              violations: check.violations.map(({ path, code, message }) => ({ path, code, message })),
              ...(check.lowConfidence === undefined ? {} : { lowConfidence: check.lowConfidence }),
            });
          },
        },
      );
      const outcome: AttemptOutcome<JsonValue> = { value: checked.value };
      if (checked.lowConfidence !== undefined) outcome.lowConfidence = checked.lowConfidence;
      return outcome;
    },
  );
  return { answer: typeof value === 'string' ? value : canonicalJson(value), output: value };
}

/** With session memory, the turn (message and answer) is added to the conversation, once, whatever retries happen. */
async function rememberTurn(context: RunContext, declaration: AgentDeclaration, runtime: AgentRuntime, input: AgentInput, answer: string): Promise<void> {
  const session = input.session;
  if (declaration.memory?.session !== true || session === undefined) return;
  await context.step(
    'memory-write',
    async (info) => {
      const memory = new SessionMemory({ store: runtime.store, tenant: context.tenant, sessionId: session });
      // The step may run again after a crash: entries this run already wrote are not written twice.
      const written = (await memory.entries()).filter((entry) => entry.source.runId === context.runId).length;
      const source = memorySource(context.runId, info);
      if (written < 1) await memory.remember(input.message, { role: 'user', source, labels: memoryLabelsInRun(context, { origin: 'user' }) });
      if (written < 2) await memory.remember(answer, { role: 'assistant', source, labels: memoryLabelsInRun(context, { origin: 'system' }) });
      return { written: 2 - Math.min(written, 2) };
    },
    { idempotent: true, input: { session } },
  );
}

/** With hand-off memory, this run's answer becomes the state under `input.handoff`, written once whatever retries happen. */
async function handOff(context: RunContext, declaration: AgentDeclaration, runtime: AgentRuntime, input: AgentInput, output: { answer: string; output: JsonValue }): Promise<void> {
  const handoffId = input.handoff;
  if (declaration.memory?.handoff !== true || handoffId === undefined) return;
  await context.step(
    'handoff-write',
    async (info) => {
      const handoff = new Handoff({ store: runtime.store, tenant: context.tenant, handoffId });
      if ((await handoff.entries()).some((entry) => entry.source.runId === context.runId)) return { written: false };
      // A model wrote it, and the model may have read untrusted text: the next run treats it as data.
      await handoff.write({ answer: output.answer, output: output.output }, { source: memorySource(context.runId, info), labels: memoryLabelsInRun(context, { origin: 'untrusted' }) });
      return { written: true };
    },
    { idempotent: true, input: { handoff: handoffId } },
  );
}

/** The run's grants, computed from its input once and journaled: a replay decides with the same list. */
async function runGrants(context: RunContext, input: AgentInput, declaration: AgentDeclaration): Promise<GrantV1[]> {
  const rule = declaration.grants;
  if (rule === undefined) return [];
  const scope = { task: context.task, principal: { type: 'User', id: context.principal }, tenant: context.tenant, input: input as JsonValue };
  const computed = await context.step('grants', () => computeGrants([{ task: context.task, grants: () => rule(input, { task: context.task, principal: context.principal, tenant: context.tenant }) }], scope) as unknown as JsonValue, {
    idempotent: true,
  });
  return computed as unknown as GrantV1[];
}

function valueAt(value: JsonValue, path: readonly (string | number)[]): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (typeof current === 'object' && current !== null && !Array.isArray(current) && typeof key === 'string') current = current[key];
    else return undefined;
  }
  return current;
}

/** The result with its separately labelled parts cut out, so their text is traced under their own labels only. */
function withoutParts(value: JsonValue, paths: readonly (readonly (string | number)[])[]): JsonValue {
  if (paths.length === 0) return value;
  const copy = JSON.parse(JSON.stringify(value)) as JsonValue;
  for (const path of paths) {
    const parent = valueAt(copy, path.slice(0, -1));
    const last = path.at(-1);
    if (Array.isArray(parent) && typeof last === 'number') parent[last] = null;
    else if (typeof parent === 'object' && parent !== null && !Array.isArray(parent) && typeof last === 'string') delete parent[last];
  }
  return copy;
}

/** Endorsement (a read's data declared trusted) and declassification (declared public) are explicit in the declaration and journaled here. */
function recordRelabelling(context: RunContext, tool: string, source: string, defaultOrigin: 'untrusted' | 'system', parts: { path: (string | number)[]; labels: Labels }[]): void {
  for (const part of parts) {
    const where = part.path.length === 0 ? source : `${source}/${part.path.join('/')}`;
    if (defaultOrigin === 'untrusted' && part.labels.origins.length > 0 && part.labels.origins.every((origin) => origin !== 'untrusted')) {
      context.record('policy-decision', { principal: context.principal, action: 'endorse', resource: where, effect: 'allow', policyIds: ['labels.endorse'], reason: `${tool} declares ${where} of origin ${part.labels.origins.join(', ')}: its values may choose targets`, engine: 'keel-labels', policySetVersion: 'builtin', tool });
    }
    if (part.labels.classification === 'public') {
      context.record('policy-decision', { principal: context.principal, action: 'declassify', resource: where, effect: 'allow', policyIds: ['labels.declassify'], reason: `${tool} declares ${where} public: it may leave the company`, engine: 'keel-labels', policySetVersion: 'builtin', tool });
    }
  }
}

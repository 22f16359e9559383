/**
 * What a team declares to put its agent under Keel: the model route, the instructions, the tools
 * and the rules around them, the context, the contracts, memory and limits. `defineAgent` checks
 * a declaration once and turns it into a durable task; the loop in run-agent.ts does the rest.
 */
import type { ContextItem, ContextSection, RetrieverV1 } from '../context/index.ts';
import type { FailureContract, OutputContract } from '../contracts/index.ts';
import type { PolicyEngine, PolicyEntity } from '../access/index.ts';
import type { SimulatorOptions } from '../models/index.ts';

/** The simulator settings an agent may fix; the profile comes from the model name (`sim:NAME`). */
export type AgentSimulatorOptions = Omit<SimulatorOptions, 'profile' | 'onFault'>;
import type { AnyToolV1, ToolCallContextV1 } from '../tools/index.ts';
import type { GrantV1, JsonValue, StreamPartV1 } from '../spec/index.ts';

export type Classification = 'public' | 'internal' | 'confidential' | 'personal';
export type Origin = 'user' | 'system' | 'untrusted';

/** The labels of data a tool returns: whose it is, how sensitive, and whether it can be trusted as instructions. */
export interface ResultLabels {
  /** Default: the run's tenant (or the tenant the call's resource resolved to). */
  tenants?: string[];
  /** Default `internal`. */
  classification?: Classification;
  /** Default `untrusted` for read tools (their text is data, never instructions), `system` otherwise. */
  origins?: Origin[];
  /**
   * Whom confidential or personal data is about (a customer's address, a patient or ticket id): it
   * may go out to them, and to nobody else.
   */
  subjects?: string[];
  /**
   * Labels of parts of the result, by path (`['records', 0]`, `['note']`): a record or a field of
   * its own sensitivity, subjects or origin, in place of the whole result's labels for that part.
   * A trusted origin on data a read returns is an endorsement, a lower classification a
   * declassification: both are journaled (`policy-decision`, actions `endorse` and `declassify`).
   */
  parts?: { path: (string | number)[]; labels: Omit<ResultLabels, 'parts'> }[];
}

/** The resource a call acts on, resolved from its arguments before it runs. */
export interface ResolvedResource extends PolicyEntity {
  /** The tenant the resource belongs to; a call on another tenant's resource never runs. */
  tenant?: string;
}

/**
 * How the agent loop governs one tool beyond its own declaration (scopes, schema, constraints,
 * rate limits, approval rule): the resource it touches, the Cedar action that decides it, and the
 * labels of what it returns. Everything is optional; a plain tool is decided as `call-tool` on
 * `Tool::"<name>"`.
 */
export interface ToolAccessV1 {
  /** Resolves the resource and its tenant from the arguments (an order id to the order and its tenant). */
  resource?: (args: Record<string, JsonValue>, run: ToolCallContextV1) => ResolvedResource | undefined;
  /** The Cedar action for a call with a resolved resource; default `call-tool` on the tool itself. */
  action?: string;
  /** Cedar context fields from the arguments (an amount, say), beside `task` and `tenant`. */
  policyContext?: (args: Record<string, JsonValue>) => Record<string, JsonValue>;
  /** Where the call's arguments go: nowhere, inside the company, or outside it. Default `none` for reads, `internal` otherwise. */
  egress?: 'none' | 'internal' | 'external' | ((args: Record<string, JsonValue>) => 'none' | 'internal' | 'external');
  /** Arguments a value of untrusted origin may never choose (a recipient, an amount). */
  sensitiveArgs?: string[];
  /** The argument naming whose data the tool touches: it must be the run's tenant. */
  tenantArg?: string;
  /** Arguments naming whom the data reaches; default see flow-policy.ts `recipientsOf` (address-like arguments, else the resource). */
  recipientArgs?: string[];
  /** Labels of the result; default see ResultLabels. */
  resultLabels?: (output: JsonValue, args: Record<string, JsonValue>, run: ToolCallContextV1) => ResultLabels;
  /**
   * Arguments that choose whom the call reaches or what it acts on; they must be justified by
   * trusted input (control.untrusted-target). Default: `sensitiveArgs` plus arguments named like a
   * target (`to`, `recipient`, `email`, `account`, `payee`, `user`, `folder`, `…Id`).
   */
  targetArgs?: string[];
  /**
   * Words by which a user's request asks for this tool (control.untrusted-tool). Default: the
   * verbs of the tool's name and their synonyms (`transfer_funds`: pay, transfer, wire, …).
   */
  requestedBy?: string[];
  /** Deletes, purges, disables, revokes, exports or raises privileges: runs only when the request asks for it. Default from the name's verb. */
  destructive?: boolean;
  /**
   * A consequential call whose tool or target was chosen under untrusted influence: refused and
   * told to the model (`deny`, default), or parked for a person (`require-approval`).
   */
  onInfluenced?: 'deny' | 'require-approval';
  /** What a refusal of this tool does, over the agent's `onDenied`: told to the model, escalated, or failed. */
  onDenied?: DenialHandling;
}

/**
 * Resolves, before any tool runs, the resource and tenant an argument names, for every tool that
 * has an argument of that name and no resolver of its own: an account id to its tenant, an e-mail
 * address to the tenant of its domain, a workspace or store to its owner. A call naming another
 * tenant's resource never runs, reads included.
 */
export interface ResourceResolver {
  /** The argument name (`accountId`), or a pattern over argument names. */
  argument: string | RegExp;
  /** The resource type (`Account`). */
  type: string;
  /** The resource's tenant, or undefined when the value names nothing this resolver knows (then the call is refused: unknown resources fail closed unless `unknown: 'allow'`). */
  tenant: (value: JsonValue, run: ToolCallContextV1) => string | undefined;
  /** What an unresolvable value does: refuse the call (default) or let it through unresolved. */
  unknown?: 'deny' | 'allow';
}

/** A tool as an agent holds it: the one tool type, plus how the loop governs it. */
export type AgentTool = AnyToolV1 & { access?: ToolAccessV1 };

/** A source of context items loaded when the run starts (in a journaled step, so a replay sees the same items). */
export interface AgentContextSource {
  name: string;
  kind?: ContextSection['kind'];
  /** Higher is kept first when the window is short. Default 50. */
  priority?: number;
  /** Default 2000 tokens. */
  maxTokens?: number;
  truncation?: ContextSection['truncation'];
  /** Items from code (a database row, a file); or use `retriever`. */
  load?: (input: AgentInput, run: ToolCallContextV1) => ContextItem[] | Promise<ContextItem[]>;
  /** Items retrieved for the user's message (or `query`). */
  retriever?: RetrieverV1;
  query?: (input: AgentInput) => string;
  /** Results asked of the retriever. Default 4. */
  limit?: number;
}

export interface AgentLimits {
  /** Model turns before the run is escalated. Default 8. */
  maxTurns?: number;
  /** Calls to any one tool per run; past it the model is told no. Default 8. */
  maxCallsPerTool?: number;
  /** The same call (tool and arguments) this many times ends the run escalated: the agent is looping. Default 3. */
  maxIdenticalCalls?: number;
  /** Output bound per model call. Default 1024. */
  maxOutputTokens?: number;
  /** Re-asks when the final answer breaks the output contract. Default 2. */
  maxRepairs?: number;
  /** A budget for each run of this agent, integer micro-USD, reserved before every model call. */
  budgetMicros?: number;
  /** The run's own working time (waits for a person do not count). */
  deadlineMs?: number;
  /** The model's context window in tokens, for context assembly. Default 128000. */
  contextWindow?: number;
}

/** What happens when a proposed tool call is refused. */
export type DenialHandling = 'tell-model' | 'escalate' | 'fail';

export interface AgentMemoryOptions {
  /** Read and append the conversation of `input.session`. */
  session?: boolean;
  /**
   * Read what is remembered about the principal across sessions, and offer the model a `remember`
   * tool to add to it (governed and journaled like any tool; what it writes is labelled untrusted,
   * so a planted "fact" cannot later choose a sensitive argument).
   */
  longTerm?: boolean;
  /** Read the state handed off under `input.handoff` by another run, and hand this run's answer on under the same id. */
  handoff?: boolean;
}

export interface AgentDeclaration<Output extends JsonValue = JsonValue> {
  name: string;
  version: string;
  description?: string;
  /** A route from the config file (`support`) or a concrete model (`sim:default`, `openai:gpt-4o-mini`). */
  model: string;
  /** The system prompt; `{{name}}` takes `input.variables.name`, and `{{tenant}}`, `{{principal}}`. */
  instructions: string;
  tools?: AgentTool[];
  /** A policy engine (e.g. `await CedarPolicyEngine.load('policies')`) deciding every tool call before it runs. */
  policies?: PolicyEngine;
  /**
   * The run's task-scoped grants, from its input: named resources (this order, this ticket), never
   * whole tables. Computed once when the run starts and journaled; policies see them as
   * `resource in Grant::"<action>"`.
   */
  grants?: (input: AgentInput, run: { task: string; principal: string; tenant: string }) => readonly GrantV1[];
  /** How a refused call is handled: told to the model as a tool error (default), escalated, or failed. */
  onDenied?: DenialHandling;
  /** Resolvers from argument values to resources and their tenants, decided before every call (see ResourceResolver). */
  resolvers?: ResourceResolver[];
  /**
   * The reference monitor over which consequential tool is called and on what (src/access/control-flow.ts):
   * `enforce` (default) or `off`, the ungoverned baseline a security suite compares against.
   */
  controlFlow?: 'enforce' | 'off';
  context?: AgentContextSource[];
  /** The final answer must be JSON meeting this contract; it is asked for natively and repaired when broken. */
  output?: OutputContract<Output>;
  /** What happens when the final answer is malformed, unsure, refused or unavailable. Default: escalate, degrade on low confidence. */
  failures?: FailureContract<Output>;
  memory?: AgentMemoryOptions;
  limits?: AgentLimits;
  /**
   * Streams every model turn as it arrives (text deltas, tool calls, the finish), through the same
   * governed route; the journal records each turn whole, as without streaming. A replayed turn is
   * not streamed again.
   */
  onStream?: (event: { runId: string; turn: string; part: StreamPartV1 }) => void;
  /** A candidate policy set evaluated beside `policies` on every call and journaled, never enforced (shadow mode). */
  shadowPolicies?: PolicyEngine;
  /** For `sim:` models: the scenario the simulator follows, its seed, injected faults, compromised mode. */
  simulator?: AgentSimulatorOptions;
}

/**
 * What one run of an agent is given. A type alias rather than an interface: it is JSON by its
 * shape, without an index signature that would clash with its optional fields in a consumer's
 * compiler settings.
 */
export type AgentInput = {
  message: string;
  /** A conversation id: with session memory on, earlier turns are in the context and this one is added. */
  session?: string;
  /** A hand-off id: with hand-off memory on, the state another run left under it is in the context, and this run's answer replaces it. */
  handoff?: string;
  /** Values for the instructions' `{{placeholders}}`. */
  variables?: { [key: string]: JsonValue };
};

/** What a run of an agent returns. */
export type AgentOutput = {
  /** The final answer's text (the JSON text when there is an output contract). */
  answer: string;
  /** The contract's value, or null without an output contract. */
  output: JsonValue;
  turns: number;
  toolCalls: { tool: string; status: string }[];
};

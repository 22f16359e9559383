/**
 * `keel mcp-proxy`: an MCP server in front of upstream MCP servers. It lists the upstream tools
 * the config governs, each as `<server>__<tool>`, and decides every `tools/call` the way the agent
 * loop decides a tool call: the tool gate (Cedar's `call-tool` on the Tool entity, the
 * information-flow rules over the arguments' labels), then `callTool` (schema, rate limits,
 * approval rules), each decision a journaled step; an allowed call is forwarded as the durable
 * tool step, with its idempotency key in `_meta`. Every client session is one run
 * (proxy-session.ts), so `keel show RUN` is the session.
 */
import { isAbsolute, join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ElicitResultSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { LabeledText, PolicyEngine } from '../access/index.ts';
import { argumentLabels, CedarPolicyEngine, labels as makeLabels } from '../access/index.ts';
import type { AgentTool, Keel } from '../agent/index.ts';
import { toolGate } from '../agent/index.ts';
import type { McpProxySetting } from '../config/index.ts';
import type { RunContext } from '../engine/index.ts';
import { defineTask } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { canonicalJson } from '../journal/index.ts';
import type { JsonSchemaV1, JsonValue } from '../spec/index.ts';
import type { ToolCallOutcome } from '../tools/index.ts';
import { callTool, isSafeToRepeat, ToolRegistry } from '../tools/index.ts';
import { proxiedTool } from './proxied-tool.ts';
import type { CallHooks, ProxyCall, ProxyCallResult, SessionHost } from './proxy-session.ts';
import { errorResult, ProxySession } from './proxy-session.ts';
import type { UpstreamTool } from './upstream.ts';
import { Upstream } from './upstream.ts';

/** The task every session's run is of. */
export const mcpProxyTask = 'mcp-proxy';

export interface McpProxyOptions {
  /** The deployment: its engine runs the sessions, its rate limiter counts the calls. */
  keel: Keel;
  setting: McpProxySetting;
  /** The config file's folder: `policies` and upstream `cwd` are relative to it. */
  folder: string;
  /** Where the proxy says what it is doing (never stdout: over stdio that is the protocol). */
  log?: (line: string) => void;
  /** The policy set, when loaded beforehand (`loadProxyPolicies`); otherwise loaded from `setting.policies`. */
  policies?: PolicyEngine;
}

/** The Cedar policy set the section names (relative to the config's folder), or undefined when it names none. */
export async function loadProxyPolicies(setting: McpProxySetting, folder: string): Promise<PolicyEngine | undefined> {
  return setting.policies === undefined ? undefined : CedarPolicyEngine.load(isAbsolute(setting.policies) ? setting.policies : join(folder, setting.policies));
}

/** An upstream as the proxy found it at start. */
export interface UpstreamStatus {
  server: string;
  up: boolean;
  problem?: string;
  /** Exposed names of the tools served from it. */
  tools: string[];
  /** Its tools the config does not govern, so no client sees them. */
  hidden: string[];
}

const defaultPollMs = 500;
const proxyVersion = '0.1.0';
const runIdMetaKey = 'keel.dev/run-id';

export class McpProxy implements SessionHost {
  readonly engine;
  readonly task = mcpProxyTask;
  readonly pollMs: number;
  readonly status: UpstreamStatus[];
  readonly #keel: Keel;
  readonly #setting: McpProxySetting;
  readonly #upstreams: Upstream[];
  readonly #policies: PolicyEngine | undefined;
  readonly #registry = new ToolRegistry();
  readonly #tools = new Map<string, AgentTool>();
  readonly #listing: { [key: string]: JsonValue }[] = [];
  readonly #sessions = new Set<ProxySession>();
  readonly #log: (line: string) => void;

  private constructor(options: McpProxyOptions, upstreams: Upstream[], listed: UpstreamTool[][], policies: PolicyEngine | undefined) {
    this.#keel = options.keel;
    this.engine = options.keel.engine;
    this.#setting = options.setting;
    this.#upstreams = upstreams;
    this.#policies = policies;
    this.#log = options.log ?? (() => undefined);
    this.pollMs = options.setting.approvalPollMs ?? defaultPollMs;
    this.status = upstreams.map((upstream, index) => this.#expose(upstream, listed[index] ?? []));
    this.engine.tasks.register(
      defineTask({
        name: mcpProxyTask,
        version: '1',
        // What shapes every call: the upstreams (without secrets), the tools' governance and the policy set.
        config: {
          servers: Object.fromEntries(upstreams.map((upstream) => [upstream.name, upstream.description])),
          tools: options.setting.tools as unknown as JsonValue,
          policySetVersion: policies?.policySetVersion ?? null,
          principal: this.#identity.principal,
          tenant: this.#identity.tenant,
        },
        run: (context) => this.#serveSession(context),
      }),
    );
  }

  /** Starts every upstream (a failing one is reported in `status`, not fatal) and loads the policies. */
  static async start(options: McpProxyOptions): Promise<McpProxy> {
    const { setting, folder } = options;
    // Checked first: a bad policy set stops the proxy before any upstream is started.
    const policies = options.policies ?? (await loadProxyPolicies(setting, folder));
    if (options.keel.engine.tasks.serves(mcpProxyTask)) throw new KeelError('usage-invalid', `this deployment already serves ${mcpProxyTask}: start one proxy per Keel`);
    const upstreams = Object.entries(setting.servers).map(([name, server]) => new Upstream(name, server, folder));
    const listed = await Promise.all(upstreams.map((upstream) => upstream.start()));
    return new McpProxy(options, upstreams, listed, policies);
  }

  get #identity(): { principal: string; tenant: string } {
    return { principal: this.#setting.principal ?? 'mcp-client', tenant: this.#setting.tenant ?? 'default' };
  }

  /** The tools clients see, as `tools/list` gives them. */
  get tools(): readonly { [key: string]: JsonValue }[] {
    return this.#listing;
  }

  /** A client session; its run starts with its first call. */
  openSession(options: { transport: 'stdio' | 'streamable-http'; id?: string }): ProxySession {
    const session = new ProxySession(this, { ...this.#identity, ...options });
    this.#sessions.add(session);
    return session;
  }

  /** Ends a session: its run ends `ok` once its call under way is answered (a run waiting for approval is stopped). */
  async closeSession(session: ProxySession, reason: string): Promise<void> {
    try {
      await session.close(reason);
    } finally {
      this.#sessions.delete(session);
    }
  }

  /** The MCP server a client of this session talks to (one per session: the SDK's servers hold one transport). */
  mcpServer(session: ProxySession): Server {
    const server = new Server({ name: 'keel-mcp-proxy', version: proxyVersion }, { capabilities: { tools: {} } });
    session.describeClient = () => {
      const client = server.getClientVersion();
      return client === undefined ? undefined : { name: client.name, version: client.version };
    };
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.#listing as never[] }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { name } = request.params;
      // Unknown names are answered without a run: nothing was decided, nothing reached an upstream.
      if (!this.#tools.has(name)) return errorResult(`no tool named ${name} is served here (tools/list names the ones that are)`, undefined);
      const args = (request.params.arguments ?? {}) as { [key: string]: JsonValue };
      const progressToken = request.params._meta?.progressToken;
      const hooks: CallHooks = {};
      if (progressToken !== undefined) {
        // Progress must increase with every notification: it counts them.
        let progress = 0;
        hooks.onWaiting = (runId, reason) => {
          progress += 1;
          const message = `waiting for a person's approval (${reason}): keel approve ${runId}`;
          extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
        };
      }
      if (this.#setting.elicitation === true && server.getClientCapabilities()?.elicitation !== undefined) {
        hooks.askUser = async (runId, reason, signal) => {
          const answer = await extra.sendRequest(
            {
              method: 'elicitation/create',
              params: {
                mode: 'form',
                message: `Keel: ${name} needs approval (${reason}). Approve ${name} with ${canonicalJson(args)}? (run ${runId})`,
                requestedSchema: { type: 'object', properties: { approve: { type: 'boolean', title: 'Approve', description: `Let ${name} run with ${canonicalJson(args)}` } }, required: ['approve'] },
              },
            },
            ElicitResultSchema,
            { signal, timeout: 24 * 60 * 60 * 1_000 },
          );
          if (answer.action === 'accept') return answer.content?.approve === true ? 'approve' : 'deny';
          return answer.action === 'decline' ? 'deny' : undefined;
        };
      }
      return (await session.call(name, args, hooks));
    });
    return server;
  }

  /** Ends every session (their runs end), then stops the upstreams. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => this.closeSession(session, 'the proxy is shutting down')));
    await Promise.all(this.#upstreams.map((upstream) => upstream.close()));
  }

  log(line: string): void {
    this.#log(line);
  }

  /**
   * One call, decided and (when allowed) forwarded, inside the session's run. `durable` says its
   * last event was committed, not pipelined: an effect's step end, or a person's denial.
   */
  async serveCall(context: RunContext, call: ProxyCall, session: ProxySession): Promise<{ result: ProxyCallResult; durable: boolean }> {
    const { name, args } = call;
    const gate = toolGate({ context, argumentLabels: argumentLabels(session.provenance, args), grantedScopes: [], policies: this.#policies }, this.#tools);
    const request = { registry: this.#registry, rateLimiter: this.#keel.runtime.rateLimiter, run: context, name, args, grantedScopes: [], authorize: gate };
    let outcome: ToolCallOutcome = await callTool(request);
    if (outcome.status === 'approval-required') {
      try {
        // Parks the run `waiting` (the session resumes it once a person decides) or, replayed, returns the decision.
        const approval = await context.approval(`approval:${name}`, { reason: `${name}: ${outcome.reason}`, details: { tool: name, arguments: args } });
        outcome = await callTool({ ...request, approvedBy: approval.decider });
      } catch (error) {
        if (!(error instanceof KeelError && error.code === 'approval-denied')) throw error;
        const result = errorResult(`Keel refused ${name}: a person denied it (${error.message})`, context.runId, { 'keel.dev/decision': { status: 'denied', reason: 'approval-denied', policyIds: ['human-decision'] } });
        return { result, durable: true };
      }
    }
    const tool = this.#tools.get(name);
    const ran = outcome.status === 'ok' || outcome.status === 'failed';
    return { result: this.#resultOf(context, session.provenance, outcome), durable: ran && tool !== undefined && !isSafeToRepeat(tool) };
  }

  #resultOf(context: RunContext, provenance: LabeledText[], outcome: ToolCallOutcome): ProxyCallResult {
    const runId = context.runId;
    switch (outcome.status) {
      case 'ok': {
        const output = outcome.output as { content: JsonValue[]; structuredContent?: { [key: string]: JsonValue } };
        const tool = this.#tools.get(outcome.tool);
        const declared = tool?.access?.resultLabels?.(outcome.output, {}, context) ?? {};
        // What the call returned is traced when later calls use it (flow rules: untrusted text cannot pick a recipient).
        provenance.push({
          text: canonicalJson(outcome.output),
          labels: makeLabels({ tenants: [context.tenant], classification: declared.classification ?? 'internal', origins: declared.origins ?? [tool?.sideEffect === 'read' ? 'untrusted' : 'system'] }),
        });
        return { content: output.content, ...(output.structuredContent === undefined ? {} : { structuredContent: output.structuredContent }), _meta: { [runIdMetaKey]: runId } };
      }
      case 'denied': {
        const policyIds = outcome.policyIds ?? [];
        const by = policyIds.length === 0 ? '' : ` by policy ${policyIds.join(', ')}`;
        return errorResult(`Keel refused ${outcome.tool} (${outcome.reason}${by}): ${outcome.message}`, runId, { 'keel.dev/decision': { status: 'denied', reason: outcome.reason, policyIds } });
      }
      case 'arguments-invalid':
        return errorResult(`Keel refused ${outcome.tool}: ${outcome.message}`, runId, { 'keel.dev/decision': { status: 'arguments-invalid', reason: 'arguments-invalid', policyIds: [] } });
      case 'approval-required':
        return errorResult(`Keel refused ${outcome.tool}: it needs approval (${outcome.reason})`, runId);
      case 'failed':
        return errorResult(`${outcome.tool} failed (${outcome.error.code}): ${outcome.error.message}`, runId, { 'keel.dev/error': outcome.error.code });
    }
  }

  /** Registers the governed tools of one upstream and lists them for clients; the rest stay hidden. */
  #expose(upstream: Upstream, listed: UpstreamTool[]): UpstreamStatus {
    const status: UpstreamStatus = { server: upstream.name, up: upstream.problem === undefined, tools: [], hidden: [], ...(upstream.problem === undefined ? {} : { problem: upstream.problem }) };
    const prefix = `${upstream.name}.`;
    const configured = Object.keys(this.#setting.tools).filter((key) => key.startsWith(prefix));
    for (const tool of listed) {
      const setting = this.#setting.tools[`${prefix}${tool.name}`];
      if (setting === undefined) {
        status.hidden.push(tool.name);
        continue;
      }
      const governed = proxiedTool(upstream, tool, setting);
      try {
        this.#registry.register(governed);
      } catch (error) {
        this.#log(`keel mcp-proxy: ${governed.name} is not served: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      this.#tools.set(governed.name, governed);
      status.tools.push(governed.name);
      this.#listing.push({
        name: governed.name,
        description: governed.description,
        inputSchema: governed.inputSchema as JsonSchemaV1,
        ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema }),
        ...(tool.title === undefined ? {} : { title: tool.title }),
        ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
      });
    }
    if (status.up) {
      const missing = configured.filter((key) => !listed.some((tool) => `${prefix}${tool.name}` === key));
      if (missing.length > 0) this.#log(`keel mcp-proxy: ${upstream.name} has no tool ${missing.map((key) => key.slice(prefix.length)).join(', ')} (governed in mcpProxy.tools); not served`);
    }
    return status;
  }

  async #serveSession(context: RunContext): Promise<JsonValue> {
    const session = [...this.#sessions].find((candidate) => candidate.runId === context.runId);
    // A session's run is executed only by the proxy holding the session: its calls live in this process.
    if (session === undefined) throw new KeelError('internal', `run ${context.runId} is an MCP session this process does not hold; its client is gone`);
    return session.serve(context);
  }
}

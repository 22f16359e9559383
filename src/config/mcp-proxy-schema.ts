import { z } from 'zod';
import { integerSetting } from './integer-setting.ts';
import { describeValue } from './issue-wording.ts';

// The `mcpProxy` section of the config file: what `keel mcp-proxy` fronts and how each tool is governed.
// Strict like the rest of the file: a misspelt setting is an error naming it, never a silent default.

/** Server names become the first half of every exposed tool name (`files__read`), so they are kept short and plain. */
const serverName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, {
  error: (issue) => `must be a server name of lower-case letters, digits and '-' (at most 31, starting with a letter), got ${describeValue(issue.input)}`,
});

/**
 * One upstream: a program Keel starts and talks to over stdio (`command`), or a Streamable HTTP
 * endpoint (`url`). One object with both shapes' settings, so a misspelt one is named as unknown.
 */
const upstreamSchema = z
  .strictObject({
    /** The program to start; it speaks MCP on its stdin and stdout. */
    command: z.string().min(1).exactOptional(),
    args: z.array(z.string()).exactOptional(),
    /** Added to the safe default environment (PATH, HOME, ...) for this server only. Never journaled. */
    env: z.record(z.string(), z.string()).exactOptional(),
    /** Default: the config file's folder. */
    cwd: z.string().min(1).exactOptional(),
    /** A Streamable HTTP endpoint. */
    url: z.url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? undefined : `must be an http(s) URL, got ${describeValue(issue.input)}`) }).exactOptional(),
    /** Sent with every request (an API key, say). Never journaled. */
    headers: z.record(z.string(), z.string()).exactOptional(),
    /** How long starting it and listing its tools may take before it is reported down. Default 10 000. */
    startTimeoutMs: integerSetting('ms', 1)
      .max(300_000, { error: (issue) => `must be ≤ 300000 (ms), got ${describeValue(issue.input)}` })
      .exactOptional(),
  })
  .superRefine((server, context) => {
    if ((server.command === undefined) === (server.url === undefined)) {
      context.addIssue({ code: 'custom', message: 'must give either command (a server Keel starts over stdio) or url (a Streamable HTTP server), not both or neither' });
    }
    const misplaced = server.url === undefined ? (server.headers === undefined ? [] : ['headers']) : (['args', 'env', 'cwd'] as const).filter((key) => server[key] !== undefined);
    for (const key of misplaced) context.addIssue({ code: 'custom', path: [key], message: server.url === undefined ? 'applies to url servers only' : 'applies to command servers only' });
  });

const rateWindowSchema = z.strictObject({
  limit: integerSetting('calls', 1),
  windowMs: integerSetting('ms', 1),
});

const toolSchema = z.strictObject({
  /** What a call does to the world: `read` calls may be repeated; `write` and `irreversible` are not repeated after a crash. */
  sideEffect: z.enum(['read', 'write', 'irreversible']),
  /** The upstream deduplicates on the idempotency key Keel sends in `_meta`, so a write may be repeated safely. */
  deduplicatesOnKey: z.boolean().exactOptional(),
  /** How long one call may take before it is cancelled and answered with an error. Default 30 000. */
  timeoutMs: integerSetting('ms', 1).exactOptional(),
  rateLimit: z.strictObject({ perTenant: rateWindowSchema, perTool: rateWindowSchema.exactOptional() }).exactOptional(),
  /** Every call waits for a person (`keel approve RUN`, or the client's user when it supports elicitation). */
  approval: z.strictObject({ reason: z.string().min(1) }).exactOptional(),
  /**
   * Labels of what the tool returns (flow rules trace later arguments to it) and `tags`, the
   * Cedar `Tool` entity's `labels` attribute, which policies may test.
   */
  labels: z
    .strictObject({
      classification: z.enum(['public', 'internal', 'confidential', 'personal']).exactOptional(),
      origins: z.array(z.enum(['user', 'system', 'untrusted'])).exactOptional(),
      tags: z.array(z.string().min(1)).exactOptional(),
    })
    .exactOptional(),
  /** Where the call's arguments go. Default `none` for reads, `internal` otherwise. */
  egress: z.enum(['none', 'internal', 'external']).exactOptional(),
  /** Arguments a value of untrusted origin (an earlier read's result) may never choose. */
  sensitiveArgs: z.array(z.string().min(1)).exactOptional(),
});

export const mcpProxySchema = z
  .strictObject({
    servers: z.record(serverName, upstreamSchema).refine((servers) => Object.keys(servers).length > 0, { error: 'must name at least one server' }),
    /** By `<server>.<tool>`; a tool the upstream has but this does not list is not exposed (it could not be governed). */
    tools: z.record(z.string(), toolSchema),
    /** A folder with `keel.cedarschema` and `*.cedar` files, relative to the config file: Cedar decides `call-tool` on every call. */
    policies: z.string().min(1).exactOptional(),
    /** Who the sessions' runs act for, and whose data they may touch. Default `mcp-client`, `default`. */
    principal: z.string().min(1).exactOptional(),
    tenant: z.string().min(1).exactOptional(),
    /**
     * Also ask the client's user (MCP elicitation, when the client supports it) to approve a call
     * that needs approval; whoever decides first, the user or `keel approve`, decides. Default false.
     */
    elicitation: z.boolean().exactOptional(),
    /** How often a call waiting for approval checks the store for the decision. Default 500. */
    approvalPollMs: integerSetting('ms', 10)
      .max(60_000, { error: (issue) => `must be ≤ 60000 (ms), got ${describeValue(issue.input)}` })
      .exactOptional(),
  })
  .superRefine((proxy, context) => {
    for (const key of Object.keys(proxy.tools)) {
      const dot = key.indexOf('.');
      const server = dot < 0 ? '' : key.slice(0, dot);
      const tool = dot < 0 ? '' : key.slice(dot + 1);
      if (server === '' || tool === '') {
        context.addIssue({ code: 'custom', path: ['tools', key], message: 'must be named <server>.<tool>, e.g. "files.read_note"' });
      } else if (!(server in proxy.servers)) {
        context.addIssue({ code: 'custom', path: ['tools', key], message: `names server '${server}', which mcpProxy.servers does not list (${Object.keys(proxy.servers).join(', ')})` });
      } else if (!/^[A-Za-z0-9_-]+$/.test(tool) || server.length + 2 + tool.length > 64) {
        context.addIssue({ code: 'custom', path: ['tools', key], message: `exposed as ${server}__${tool}, which is not a tool name every client accepts (letters, digits, '_' and '-', at most 64)` });
      }
    }
  });

export type McpProxySetting = z.output<typeof mcpProxySchema>;
export type McpProxyServerSetting = McpProxySetting['servers'][string];
export type McpProxyToolSetting = McpProxySetting['tools'][string];

/**
 * One upstream MCP server the proxy fronts, through the official SDK client. It is contained: a
 * server that does not start, or does not answer within its start timeout, is reported and left
 * down while the others serve; one that exits later makes its calls fail (with that reason) until
 * a call finds it startable again, at most one restart attempt per call.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpProxyServerSetting } from '../config/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JsonSchemaV1, JsonValue } from '../spec/index.ts';

/** A tool as the upstream's `tools/list` describes it (the fields the proxy passes on). */
export interface UpstreamTool {
  name: string;
  description?: string;
  inputSchema: JsonSchemaV1;
  outputSchema?: JsonSchemaV1;
  annotations?: { [key: string]: JsonValue };
  title?: string;
}

/** What an upstream's `tools/call` answered, as JSON. */
export interface UpstreamResult {
  content: JsonValue[];
  structuredContent?: { [key: string]: JsonValue };
  isError?: boolean;
}

const defaultStartTimeoutMs = 10_000;

export class Upstream {
  readonly name: string;
  readonly #setting: McpProxyServerSetting;
  readonly #folder: string;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  /** Why the server is down, once it is. */
  #problem: string | undefined;
  #closed = false;
  version = '0';

  constructor(name: string, setting: McpProxyServerSetting, folder: string) {
    this.name = name;
    this.#setting = setting;
    this.#folder = folder;
  }

  /** Where it runs, without its environment or headers (which may hold secrets): what a run's configuration records. */
  get description(): JsonValue {
    const setting = this.#setting;
    return setting.url === undefined ? { command: setting.command ?? '', args: setting.args ?? [] } : { url: setting.url };
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  /** Connects and lists the tools; a server that fails either is down (see `problem`) and lists none. */
  async start(): Promise<UpstreamTool[]> {
    try {
      const client = await this.#connect();
      return await listAllTools(client, this.#startTimeoutMs);
    } catch (error) {
      this.#problem = messageOf(error);
      await this.#drop();
      return [];
    }
  }

  /** Calls a tool; the SDK tells the server to cancel when `signal` aborts (the proxy's timeout). */
  async call(tool: string, args: { [key: string]: JsonValue }, meta: { [key: string]: JsonValue }, signal: AbortSignal, timeoutMs: number): Promise<UpstreamResult> {
    let client: Client;
    try {
      client = this.#client ?? (await this.#connect());
    } catch (error) {
      this.#problem = messageOf(error);
      await this.#drop();
      throw new KeelError('tool-error', `upstream MCP server ${this.name} is unavailable: ${this.#problem}`, { retryable: true });
    }
    // The SDK's own timer is set past Keel's, so Keel's (journaled as tool-timeout) fires first.
    const result = await client.callTool({ name: tool, arguments: args, _meta: meta }, undefined, { signal, timeout: timeoutMs + 1_000 });
    return result as unknown as UpstreamResult;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#drop();
  }

  get #startTimeoutMs(): number {
    return this.#setting.startTimeoutMs ?? defaultStartTimeoutMs;
  }

  #connect(): Promise<Client> {
    if (this.#closed) return Promise.reject(new KeelError('tool-error', `the proxy is closing; ${this.name} is not started again`));
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<Client> {
    // Loaded on first use: only this command needs the SDK.
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client({ name: 'keel-mcp-proxy', version: '0.1.0' });
    const transport = await this.#transport();
    try {
      await client.connect(transport, { timeout: this.#startTimeoutMs });
    } catch (error) {
      await transport.close().catch(() => undefined);
      throw new KeelError('tool-error', `could not start ${this.name}: ${messageOf(error)}`, { cause: error });
    }
    this.version = client.getServerVersion()?.version ?? '0';
    this.#problem = undefined;
    this.#client = client;
    client.onclose = () => {
      // The process exited or the connection dropped: calls fail until a call can start it again.
      if (this.#client === client) {
        this.#client = undefined;
        this.#problem = `${this.name} closed its connection (the server exited or the endpoint went away)`;
      }
    };
    return client;
  }

  async #transport(): Promise<Transport> {
    const setting = this.#setting;
    if (setting.url !== undefined) {
      const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      return new StreamableHTTPClientTransport(new URL(setting.url), setting.headers === undefined ? undefined : { requestInit: { headers: setting.headers } });
    }
    const { StdioClientTransport, getDefaultEnvironment } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    return new StdioClientTransport({
      command: setting.command ?? '',
      args: setting.args ?? [],
      // The SDK passes only a safe default environment (PATH, HOME, ...); `env` adds to it.
      env: { ...getDefaultEnvironment(), ...(setting.env ?? {}) },
      cwd: setting.cwd ?? this.#folder,
      // Its diagnostics go to the proxy's stderr; stdout is the protocol.
      stderr: 'inherit',
    });
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }
}

async function listAllTools(client: Client, timeoutMs: number): Promise<UpstreamTool[]> {
  const tools: UpstreamTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
    tools.push(...(page.tools as unknown as UpstreamTool[]));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { KeelError } from '../errors/index.ts';

export type McpTransportOptions =
  /** A server Keel spawns and talks to over its stdin and stdout. */
  | { type: 'stdio'; command: string; args?: string[]; env?: Record<string, string>; cwd?: string; stderr?: 'inherit' | 'ignore' | 'pipe' }
  /** A server already running behind a URL (the current MCP HTTP transport). */
  | { type: 'streamable-http'; url: string | URL; headers?: Record<string, string> };

export interface McpServerConnection {
  /** The official SDK client, connected and initialized. */
  readonly client: Client;
  close(): Promise<void>;
}

/** Connects to an MCP server with the official SDK client; the server's tools can then be registered. */
export async function connectMcpServer(options: { transport: McpTransportOptions; clientName?: string; clientVersion?: string }): Promise<McpServerConnection> {
  // Loaded on first use: the SDK costs every `import 'keel'` most of a second, and most runs use no MCP server.
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const client = new Client({ name: options.clientName ?? 'keel', version: options.clientVersion ?? '0.1.0' });
  const transport = await transportFor(options.transport);
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw new KeelError('tool-error', `could not connect to MCP server ${describe(options.transport)}: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }
  return { client, close: () => client.close() };
}

async function transportFor(options: McpTransportOptions): Promise<Transport> {
  if (options.type === 'stdio') {
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    return new StdioClientTransport({
      command: options.command,
      ...(options.args === undefined ? {} : { args: options.args }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stderr: options.stderr ?? 'inherit',
    });
  }
  const url = typeof options.url === 'string' ? new URL(options.url) : options.url;
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  return new StreamableHTTPClientTransport(url, options.headers === undefined ? undefined : { requestInit: { headers: options.headers } });
}

function describe(options: McpTransportOptions): string {
  return options.type === 'stdio' ? `(stdio: ${options.command})` : `at ${String(options.url)}`;
}

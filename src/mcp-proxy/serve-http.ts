import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpProxy } from './mcp-proxy.ts';
import type { ProxySession } from './proxy-session.ts';

export interface HttpListening {
  /** The MCP endpoint, e.g. http://127.0.0.1:8788/mcp. */
  url: string;
  /** Ends every session (their runs end), then stops listening. */
  close(): Promise<void>;
}

interface HttpSession {
  session: ProxySession;
  transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
}

/**
 * Serves MCP over Streamable HTTP at `/mcp`: each client session (the `mcp-session-id` the
 * transport hands out at initialize) is one proxy session and one run, ended when the client
 * deletes the session or the proxy closes.
 */
export async function listenHttp(proxy: McpProxy, options: { host: string; port: number }): Promise<HttpListening> {
  const sessions = new Map<string, HttpSession>();

  const open = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const session = proxy.openSession({ transport: 'streamable-http', id: randomUUID() });
    const server = proxy.mcpServer(session);
    let closing: Promise<void> | undefined;
    const entry: HttpSession = {
      session,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => session.id,
        onsessioninitialized: (id) => {
          sessions.set(id, entry);
        },
      }),
      close: () => {
        closing ??= (async () => {
          sessions.delete(session.id);
          await proxy.closeSession(session, 'the client ended its session');
          await server.close().catch(() => undefined);
        })();
        return closing;
      },
    };
    // A DELETE from the client, or the proxy closing the transport.
    entry.transport.onclose = () => void entry.close();
    await server.connect(entry.transport);
    await entry.transport.handleRequest(request, response);
    // Not an initialize request: the transport has answered it with an error, and there is no session to keep.
    if (!sessions.has(session.id)) await entry.close();
  };

  const http = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://proxy').pathname;
    if (path !== '/mcp') {
      answer(response, 404, `no endpoint ${path}: MCP is served at /mcp`);
      return;
    }
    const sessionId = request.headers['mcp-session-id'];
    const handled =
      typeof sessionId === 'string'
        ? (sessions.get(sessionId)?.transport.handleRequest(request, response) ?? Promise.resolve(answer(response, 404, `no session ${sessionId} (it ended, or another proxy holds it): initialize a new one`)))
        : request.method === 'POST'
          ? open(request, response)
          : Promise.resolve(answer(response, 400, 'no mcp-session-id: start a session with an initialize request (POST)'));
    handled.catch((error: unknown) => {
      if (!response.headersSent) answer(response, 500, error instanceof Error ? error.message : String(error));
      else response.end();
    });
  });
  // A client that never finishes its headers or body is cut off instead of holding a socket.
  http.headersTimeout = 20_000;
  http.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/mcp`,
    close: async () => {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      await Promise.all([...sessions.values()].map((entry) => entry.close()));
      await proxy.close();
      http.closeAllConnections();
      await closed;
    },
  };
}

/** A JSON-RPC error body, as the SDK's transport answers its own refusals. */
function answer(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createWeatherServer } from './weather-mcp-server.ts';

/**
 * The weather MCP server over Streamable HTTP on a free local port, stateless (no session id generator): a fresh server and
 * transport per request, as the SDK recommends when no session state is needed.
 */
export async function startWeatherHttpServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const http = createServer((request, response) => {
    const server = createWeatherServer();
    const transport = new StreamableHTTPServerTransport({});
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(request, response))
      .catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500).end(String(error));
      });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

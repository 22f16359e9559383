import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpProxy } from './mcp-proxy.ts';

/**
 * Serves one client over this process's stdin and stdout: one session, one run. Resolves once
 * the client has gone (stdin ended) or `stop` was called, and the session's run has ended.
 */
export async function serveStdio(proxy: McpProxy, stop: Promise<unknown>): Promise<void> {
  const session = proxy.openSession({ transport: 'stdio' });
  const server = proxy.mcpServer(session);
  const transport = new StdioServerTransport();
  // The SDK's transport does not report the end of stdin; a client closing it has left.
  const clientGone = new Promise<string>((resolve) => {
    process.stdin.once('end', () => resolve('the client closed stdin'));
    process.stdin.once('close', () => resolve('the client closed stdin'));
    transport.onclose = () => resolve('the connection closed');
  });
  await server.connect(transport);
  const reason = await Promise.race([clientGone, stop.then(() => 'the proxy was told to stop')]);
  await proxy.closeSession(session, reason);
  await server.close();
}

import { isIPv4 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';

/**
 * `keel mcp-proxy --config PATH`: an MCP server in front of the upstream MCP servers of the
 * config's `mcpProxy` section. Over stdio (the default) it serves the one client that started it
 * and exits when that client closes stdin; with `--http` it serves Streamable HTTP at
 * `http://HOST:PORT/mcp` (127.0.0.1:8788) until SIGTERM or SIGINT. Every client session is a
 * journaled run of task `mcp-proxy` in `--db`. Over stdio, stdout is the protocol: everything the
 * proxy says goes to stderr.
 */
export const mcpProxyCommand: Command = async (context) => {
  const { environment, options } = context;
  const configPath = options.config ?? environment.KEEL_CONFIG;
  if (configPath === undefined) throw new KeelError('usage-invalid', 'keel mcp-proxy needs --config PATH (or KEEL_CONFIG): a config file whose mcpProxy section names the upstream servers');
  if (!options.http && (options.port !== undefined || options.host !== undefined)) throw new KeelError('usage-invalid', 'keel mcp-proxy takes --port and --host with --http only (without it, it serves stdio)');
  if (!options.http && options.allowAnonymous) throw new KeelError('usage-invalid', 'keel mcp-proxy takes --allow-anonymous with --http only');
  const host = options.host ?? '127.0.0.1';
  const port = options.port === undefined ? 8788 : Number(options.port);
  // The proxy has no keys of its own yet: answering other machines is an explicit choice.
  if (options.http && !isLoopback(host) && !options.allowAnonymous) {
    throw new KeelError('usage-invalid', `keel mcp-proxy on ${host} would let other machines call the upstream tools as the configured principal: pass --allow-anonymous to serve them`);
  }
  // Checked before anything starts: a bad config creates no database and starts no upstream.
  const config = (await import('../../config/index.ts')).loadConfig(configPath);
  const setting = config.mcpProxy;
  if (setting === undefined) throw new KeelError('config-invalid', `${configPath}: mcpProxy: is required for keel mcp-proxy (the upstream servers and how their tools are governed)`);
  const log = (line: string) => context.output.stderr(`${line}\n`);

  const { McpProxy, listenHttp, loadProxyPolicies, serveStdio } = await import('../../mcp-proxy/index.ts');
  const folder = dirname(resolve(configPath));
  // So is the policy set: a bad one stops the proxy before the store is opened.
  const policies = await loadProxyPolicies(setting, folder);
  const { createKeel } = await import('../../agent/index.ts');
  const store = await openStore({ database: options.db, create: true, environment });
  try {
    const keel = await createKeel({ store, environment, config });
    try {
      const proxy = await McpProxy.start({ keel, setting, folder, log, ...(policies === undefined ? {} : { policies }) });
      for (const status of proxy.status) {
        const hidden = status.hidden.length === 0 ? '' : `; not governed, so not served: ${status.hidden.join(', ')}`;
        log(status.up ? `keel mcp-proxy: ${status.server}: serving ${status.tools.join(', ') || 'no tools'}${hidden}` : `keel mcp-proxy: ${status.server} is down, its tools are not served: ${status.problem ?? 'unknown'}`);
      }
      const signalled = new Promise<NodeJS.Signals>((resolveSignal) => {
        const stop = (received: NodeJS.Signals) => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolveSignal(received);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      if (!options.http) {
        await serveStdio(proxy, signalled);
        await proxy.close();
        return 0;
      }
      const listening = await listenHttp(proxy, { host, port }).catch(async (error: unknown) => {
        await proxy.close();
        const code = (error as NodeJS.ErrnoException).code;
        throw new KeelError('usage-invalid', `cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : error instanceof Error ? error.message : String(error)}`);
      });
      context.output.stdout(`keel mcp-proxy listening on ${listening.url}; journal in ${store.location}\n`);
      const signal = await signalled;
      context.output.stdout(`keel mcp-proxy stopping (${signal}): sessions end once their call under way is answered\n`);
      await listening.close();
      context.output.stdout('keel mcp-proxy stopped\n');
      return 0;
    } finally {
      await keel.close();
    }
  } finally {
    await store.close();
  }
};

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.'));
}

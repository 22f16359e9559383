import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Gateway } from './gateway.ts';

export interface ListeningGateway {
  /** `http://host:port`, for a client's base URL. */
  url: string;
  port: number;
  /** Stops accepting connections, waits for the runs in flight, then closes the gateway. */
  close(): Promise<void>;
}

/**
 * Serves the gateway over HTTP on `host:port` (port 0: any free port). The Node adapter is told
 * not to replace the process's global Request and Response, so an embedding program's own fetch
 * calls are untouched.
 */
export async function listenGateway(gateway: Gateway, options: { port: number; host: string }): Promise<ListeningGateway> {
  const server = createAdaptorServer({ fetch: (request) => gateway.fetch(request), overrideGlobalObjects: false });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open; connections with a request in flight finish.
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await gateway.close();
      await closed;
    },
  };
}

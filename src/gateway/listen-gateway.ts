import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import { createAdaptorServer } from '@hono/node-server';
import type { AccessLogEntry } from './access-log.ts';
import { logAccess } from './access-log.ts';
import type { Gateway } from './gateway.ts';
import { wholeSetting } from './gateway-settings.ts';
import type { ClientConnection } from './serve-call.ts';

export interface ListenOptions {
  port: number;
  host: string;
  /**
   * Longest wait for a request's headers, in ms; default 20 s. A client slower than that (a
   * slow-loris holding connections open a byte at a time) gets a 408 and its connection closed.
   */
  headersTimeoutMs?: number;
  /** Longest wait for a whole request, headers and body, in ms; default 60 s; then a 408, as above. */
  requestTimeoutMs?: number;
  /** How long `close()` lets requests in flight finish by default, in ms; default 30 s. */
  graceMs?: number;
  /** Told of every request once its response is over (access-log.ts); `keel serve --access-log` prints each as a JSON line. */
  accessLog?: (entry: AccessLogEntry) => void;
}

export interface ListeningGateway {
  /** `http://host:port`, for a client's base URL. */
  url: string;
  port: number;
  /**
   * Stops accepting connections and refuses new requests (503), lets the requests in flight finish
   * for up to `graceMs`, then stops the runs still going (each ends `failed`, journaled, and its
   * client is told), closes the gateway and, last, any connection still open.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const defaultHeadersTimeoutMs = 20_000;
const defaultRequestTimeoutMs = 60_000;
const defaultGraceMs = 30_000;
/** How long answers already decided may take to reach their clients once the runs have ended. */
const deliveryMs = 1_000;

/**
 * Serves the gateway over HTTP on `host:port` (port 0: any free port). The Node adapter is told
 * not to replace the process's global Request and Response, so an embedding program's own fetch
 * calls are untouched. Request bodies are limited by the gateway (a 413 while the body streams in);
 * the server bounds how long a request may take to arrive. Answers may stream for as long as they take.
 */
export async function listenGateway(gateway: Gateway, options: ListenOptions): Promise<ListeningGateway> {
  const headersTimeout = wholeSetting('headersTimeoutMs', options.headersTimeoutMs, 'ms', { minimum: 1 }) ?? defaultHeadersTimeoutMs;
  const requestTimeout = Math.max(headersTimeout, wholeSetting('requestTimeoutMs', options.requestTimeoutMs, 'ms', { minimum: 1 }) ?? defaultRequestTimeoutMs);
  const defaultGrace = wholeSetting('graceMs', options.graceMs, 'ms', { minimum: 0 }) ?? defaultGraceMs;
  const { accessLog } = options;
  const server = createAdaptorServer({
    // The adapter serves node:http here, so each request's bindings are node:http's.
    fetch: (request, bindings) => {
      const { incoming, outgoing } = bindings as HttpBindings;
      if (accessLog === undefined) return gateway.fetch(request, connectionOf(outgoing));
      const logging = logAccess(incoming, outgoing, accessLog);
      return gateway.fetch(request, connectionOf(outgoing)).then((response) => {
        logging.answered(response);
        return response;
      });
    },
    overrideGlobalObjects: false,
    // Node checks these timeouts on an interval (30 s by default), which would let a slow client
    // hold its connection well past them; checking at a quarter of the shortest keeps them close.
    serverOptions: { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(headersTimeout / 4))) },
  }) as Server; // node:http's, the adapter's default
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: (closeOptions) => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections would hold close() open; connections with a request in flight finish.
        server.closeIdleConnections();
        await gateway.close({ graceMs: closeOptions?.graceMs ?? defaultGrace });
        // Every run has ended, so every answer is decided; a client that does not read its own is cut.
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, deliveryMs)))]);
        clearTimeout(timer);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

/**
 * A request's connection, cut with a reset: what the client has not read is dropped at once
 * rather than left in the kernel's buffers behind a graceful close it would never read up to.
 */
function connectionOf(outgoing: ServerResponse): ClientConnection {
  return {
    cut: () => {
      const socket = outgoing.socket;
      if (socket instanceof Socket && !socket.destroyed) socket.resetAndDestroy();
      else outgoing.destroy();
    },
  };
}

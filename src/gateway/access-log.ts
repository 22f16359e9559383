import type { IncomingMessage, ServerResponse } from 'node:http';
import { runHeader } from './request-identity.ts';

/** One request as the HTTP server saw it, once its response is over (sent whole, or cut). */
export interface AccessLogEntry {
  /** When the request arrived, ISO UTC. */
  time: string;
  method: string;
  /** The path and query as sent. */
  path: string;
  status: number;
  /** From the request's arrival to the response's end, in ms (a stream's end, for a stream). */
  durationMs: number;
  /** Bytes of the response on the connection, headers included. */
  bytesSent: number;
  /** False when the connection closed before the response was sent whole. */
  completed: boolean;
  /** The run that served it (`keel-run-id`), when the request opened or joined one. */
  runId?: string;
  remoteAddress?: string;
  userAgent?: string;
}

/**
 * Calls `write` with the request's entry when its response is over. Hooked on the node:http
 * response, so a stream is logged at its end with everything it sent, and a client that left
 * mid-answer is logged too (`completed: false`). The journal holds who asked and what it cost;
 * this is the HTTP side, for the operator's log pipeline.
 */
export function logAccess(incoming: IncomingMessage, outgoing: ServerResponse, write: (entry: AccessLogEntry) => void): { answered(response: Response): void } {
  const began = performance.now();
  // The adapter hands its headers to writeHead, which keeps none for getHeader: read off the answer.
  let runId: string | null = null;
  const time = new Date().toISOString();
  const socket = outgoing.socket;
  // A keep-alive connection carries one request after another: count from where this one starts.
  const bytesBefore = socket?.bytesWritten ?? 0;
  outgoing.once('close', () => {
    const userAgent = incoming.headers['user-agent'];
    const entry: AccessLogEntry = {
      time,
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      status: outgoing.statusCode,
      durationMs: Math.round((performance.now() - began) * 1_000) / 1_000,
      bytesSent: Math.max(0, (socket?.bytesWritten ?? bytesBefore) - bytesBefore),
      completed: outgoing.writableFinished,
      ...(runId === null ? {} : { runId }),
      ...(socket?.remoteAddress === undefined ? {} : { remoteAddress: socket.remoteAddress }),
      ...(userAgent === undefined ? {} : { userAgent }),
    };
    write(entry);
  });
  return {
    answered: (response) => {
      runId = response.headers.get(runHeader);
    },
  };
}

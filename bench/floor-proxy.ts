/**
 * The floor under any gateway written in Node, for the gateway benchmark to measure beside Portkey
 * and keel serve: the least work a proxy in front of the same upstream can do.
 * - `bare`: node:http server, the body parsed as JSON and its model checked, the call forwarded over
 *   a kept-alive node:http agent, the answer parsed for its usage and sent back. No governance.
 * - `journal`: `bare` plus what durability full costs at the least: a record written to SQLite (WAL,
 *   synchronous FULL) and synced before the upstream call and another after it, before the answer.
 *   Records waiting in one turn of the event loop share one transaction (group commit), as Keel's
 *   journal writer does, so concurrent requests share an fdatasync.
 * Not a product: nothing here is checked, priced or kept. Prints its port on stdout once listening;
 * exits on SIGTERM or when stdin closes.
 * Run alone: node bench/floor-proxy.ts bare|journal UPSTREAM_PORT [DATABASE]
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';

const [mode, upstreamPortText, databasePath] = process.argv.slice(2);
if ((mode !== 'bare' && mode !== 'journal') || upstreamPortText === undefined || (mode === 'journal' && databasePath === undefined)) {
  process.stderr.write('usage: node bench/floor-proxy.ts bare|journal UPSTREAM_PORT [DATABASE]\n');
  process.exit(2);
}
const upstreamPort = Number(upstreamPortText);
const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Appends records in group commits: every record queued in one turn of the event loop shares a transaction. */
class GroupCommitLog {
  private readonly insert;
  private readonly database;
  private pending: { record: string; done: () => void }[] = [];

  constructor(path: string) {
    this.database = new DatabaseSync(path);
    this.database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, record TEXT NOT NULL)');
    this.insert = this.database.prepare('INSERT INTO log (record) VALUES (?)');
  }

  append(record: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ record, done: resolve });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.database.exec('BEGIN');
    for (const entry of batch) this.insert.run(entry.record);
    this.database.exec('COMMIT');
    for (const entry of batch) entry.done();
  }
}

const log = mode === 'journal' && databasePath !== undefined ? new GroupCommitLog(databasePath) : undefined;

function forward(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: upstreamPort, path: '/v1/chat/completions', method: 'POST', agent: upstreamAgent, headers: { 'content-type': 'application/json', authorization: 'Bearer upstream' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 502, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

let sequence = 0;
const server = createServer((incoming, outgoing) => {
  const chunks: Buffer[] = [];
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
  incoming.on('end', () => {
    void (async () => {
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: unknown };
        if (typeof parsed.model !== 'string') {
          outgoing.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"model is required","type":"invalid_request_error"}}');
          return;
        }
        sequence += 1;
        const id = sequence;
        if (log !== undefined) await log.append(JSON.stringify({ id, kind: 'call-started', model: parsed.model }));
        const answer = await forward(JSON.stringify({ ...parsed, model: 'gpt-4o-mini' }));
        const usage = (JSON.parse(answer.text) as { usage?: unknown }).usage;
        if (log !== undefined) await log.append(JSON.stringify({ id, kind: 'call-ended', usage }));
        outgoing.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer.text) }).end(answer.text);
      } catch (error) {
        if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(error), type: 'api_error' } }));
      }
    })();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => process.exit(0));
process.stdin.resume();
process.stdin.on('close', () => process.exit(0));

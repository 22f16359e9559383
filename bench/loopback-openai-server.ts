/**
 * A loopback server speaking OpenAI's Chat Completions wire format, run in its own process by the
 * governed-call benchmark so its work does not share the measured event loop. Every
 * `POST …/chat/completions` gets the recorded `chat-text.json` answer; `GET /last-request` returns
 * the last request body received, so the benchmark can send the SDK exactly what Keel sent.
 * Prints its port on stdout once listening; exits when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const answer = readFileSync(join(import.meta.dirname, '..', 'src', 'models', 'openai', 'fixtures', 'chat-text.json'));
let lastRequest = '{}';
let served = 0;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET' && request.url === '/last-request') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(lastRequest);
      return;
    }
    if (request.method !== 'POST' || request.url?.endsWith('/chat/completions') !== true) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    served += 1;
    lastRequest = Buffer.concat(chunks).toString('utf8');
    response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_bench_${served}`, 'content-length': answer.length }).end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.stdin.resume();
process.stdin.on('end', () => server.close());
process.stdin.on('close', () => process.exit(0));

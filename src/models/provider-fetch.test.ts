import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { providerFetch } from './provider-fetch.ts';

type Handler = (request: IncomingMessage, body: Buffer, response: ServerResponse) => void;

/** A real HTTP server whose handler each test sets; it counts the connections it accepted. */
let server: Server;
let base = '';
let handler: Handler = (_request, _body, response) => response.end();
const sockets = new Set<Socket>();
let connections = 0;

before(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks), response));
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('providerFetch', () => {
  test('sends the method, headers and body, and answers JSON as a Response read whole', async () => {
    let seen: { method?: string | undefined; contentType?: string | undefined; custom?: string | undefined; body?: string } = {};
    handler = (request, body, response) => {
      seen = { method: request.method, contentType: request.headers['content-type'], custom: request.headers['x-keel-test']?.toString(), body: body.toString() };
      response.writeHead(201, 'Made', [
        ['content-type', 'application/json'],
        ['x-request-id', 'req_1'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ]);
      response.end('{"ok":true,"n":3}');
    };
    const headers = new Headers({ 'content-type': 'application/json', 'x-keel-test': 'yes' });
    const response = await providerFetch(`${base}/v1/things`, { method: 'POST', headers, body: '{"ask":1}' });
    assert.deepEqual(seen, { method: 'POST', contentType: 'application/json', custom: 'yes', body: '{"ask":1}' });
    assert.ok(response instanceof Response);
    assert.equal(response.status, 201);
    assert.equal(response.statusText, 'Made');
    assert.equal(response.ok, true);
    assert.equal(response.url, `${base}/v1/things`);
    assert.equal(response.headers.get('x-request-id'), 'req_1');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
    const copy = response.clone();
    assert.equal(response.bodyUsed, false);
    assert.deepEqual(await response.json(), { ok: true, n: 3 });
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), /already been read/);
    assert.equal(await copy.text(), '{"ok":true,"n":3}');
  });

  test('sends a byte body, reuses its connection, and an error status keeps its body', async () => {
    handler = (_request, body, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
      response.end(JSON.stringify({ error: { message: `got ${body.length} bytes` } }));
    };
    const first = await providerFetch(`${base}/limited`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    assert.equal(first.status, 429);
    assert.equal(first.ok, false);
    assert.equal(first.headers.get('retry-after'), '2');
    assert.deepEqual(await first.json(), { error: { message: 'got 3 bytes' } });
    const opened = connections;
    const second = await providerFetch(`${base}/limited`, { method: 'POST', body: 'four' });
    assert.deepEqual(await second.json(), { error: { message: 'got 4 bytes' } });
    assert.equal(connections, opened, 'the second call reused the kept-alive connection');
  });

  test('an event stream arrives chunk by chunk, before the server has finished', async () => {
    let sendRest: (() => void) | undefined;
    handler = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: one\n\n');
      sendRest = () => response.end('data: two\n\n');
    };
    const response = await providerFetch(`${base}/stream`, { method: 'POST', body: '{}' });
    assert.ok(response.body !== null);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), 'data: one\n\n');
    assert.ok(sendRest !== undefined, 'the first chunk was read while the server still held the rest');
    sendRest();
    let rest = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += decoder.decode(part.value);
    assert.equal(rest, 'data: two\n\n');
  });

  test('aborting a stream mid-body fails its read and closes the connection', async () => {
    let serverSawClose: Promise<void> | undefined;
    handler = (request, _body, response) => {
      serverSawClose = new Promise((resolve) => request.socket.once('close', () => resolve()));
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: one\n\n');
    };
    const controller = new AbortController();
    const response = await providerFetch(`${base}/stream`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await assert.rejects(reader.read());
    await serverSawClose;
  });

  test('aborting before the answer rejects with an AbortError and closes the connection', async () => {
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    let serverSawClose: Promise<void> | undefined;
    handler = (request) => {
      serverSawClose = new Promise((resolve) => request.socket.once('close', () => resolve()));
      arrived();
    };
    const controller = new AbortController();
    const pending = providerFetch(`${base}/hang`, { method: 'POST', body: '{}', signal: controller.signal });
    await requestArrived;
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await serverSawClose;
    const already = providerFetch(`${base}/hang`, { method: 'POST', body: '{}', signal: AbortSignal.abort() });
    await assert.rejects(already, { name: 'AbortError' });
  });

  test('a connection cut before the announced length fails the call instead of answering short', async () => {
    handler = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"partial":');
      response.socket?.destroy();
    };
    await assert.rejects(providerFetch(`${base}/cut`, { method: 'POST', body: '{}' }));
  });

  test('a compressed answer is decoded', async () => {
    handler = (_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      response.end(gzipSync('{"zipped":true}'));
    };
    const response = await providerFetch(`${base}/gzip`, { method: 'GET' });
    assert.deepEqual(await response.json(), { zipped: true });
  });

  test('a redirect is followed by the platform fetch', async () => {
    handler = (request, body, response) => {
      if (request.url === '/old') {
        response.writeHead(307, { location: '/new' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ at: request.url, body: body.toString() }));
    };
    const response = await providerFetch(`${base}/old`, { method: 'POST', body: 'again' });
    assert.deepEqual(await response.json(), { at: '/new', body: 'again' });
  });

  test('with a proxy named in the environment the call is the global fetch', async (context) => {
    handler = (_request, _body, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"via":"fetch"}');
    const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
    const saved = names.map((name) => [name, process.env[name]] as const);
    context.after(() => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    for (const name of names) delete process.env[name];
    const direct = await providerFetch(`${base}/plain`, { method: 'GET' });
    assert.notEqual(Object.getPrototypeOf(direct), Response.prototype, 'without a proxy the answer is read by providerFetch');
    // Node's fetch goes through it only with NODE_USE_ENV_PROXY=1, unset here, so the call still reaches the server.
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    const viaFetch = await providerFetch(`${base}/plain`, { method: 'GET' });
    assert.equal(Object.getPrototypeOf(viaFetch), Response.prototype);
    assert.deepEqual(await viaFetch.json(), { via: 'fetch' });
  });
});

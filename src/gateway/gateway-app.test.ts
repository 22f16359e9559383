import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from './index.ts';
import { createGateway } from './index.ts';

// The server in process, through its request method: no port, the same routes and error shapes.
const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-app-'));
let gateway: Gateway;

before(async () => {
  gateway = await createGateway({ database: join(folder, 'keel.db'), environment: {}, maxBodyBytes: 4_096 });
});
after(async () => {
  await gateway.close();
  rmSync(folder, { recursive: true, force: true });
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return gateway.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

const hello = { model: 'sim:default', messages: [{ role: 'user', content: 'hi' }] };

describe('gateway requests in process', () => {
  test('a malformed JSON body is a 400 in OpenAI\'s shape on OpenAI\'s endpoint', async () => {
    const response = await post('/v1/chat/completions', '{"model": "sim:default", "messages": [');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { message: string; type: string; param: null; code: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, 'invalid_json');
    assert.equal(body.error.param, null);
    assert.match(body.error.message, /^the request body is not valid JSON \(/);
    assert.doesNotMatch(body.error.message, /\n|at .*\.ts/);
  });

  test('a malformed JSON body is a 400 in Anthropic\'s shape on Anthropic\'s endpoints', async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const response = await post(path, 'not json');
      assert.equal(response.status, 400);
      const body = (await response.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /not valid JSON/);
    }
  });

  test('JSON that is not an object, an unknown field, a wrong type and a dangling tool message are 400s naming the problem', async () => {
    const cases: [string, RegExp, string | null][] = [
      ['[1, 2]', /must be a JSON object, not an array/, null],
      [JSON.stringify({ ...hello, temperaturee: 1 }), /^Unrecognized request argument supplied: temperaturee$/, 'temperaturee'],
      [JSON.stringify({ ...hello, temperature: 'hot' }), /^Invalid value for 'temperature': expected number, received string\.$/, 'temperature'],
      [JSON.stringify({ ...hello, n: 3 }), /one choice/, 'n'],
      [JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_9', content: 'x' }] }), /call_9/, 'messages[1].tool_call_id'],
      [JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }), /text content parts only/, 'messages[0].content'],
    ];
    for (const [body, message, param] of cases) {
      const response = await post('/v1/chat/completions', body);
      assert.equal(response.status, 400, body);
      const { error } = (await response.json()) as { error: { message: string; param: string | null } };
      assert.match(error.message, message, body);
      if (param !== null) assert.ok(error.param?.startsWith(param), `${error.param} for ${body}`);
    }
  });

  test('a body over the size limit is a 413, with or without a content-length', async () => {
    const big = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
    const declared = await post('/v1/chat/completions', big, { 'content-length': String(Buffer.byteLength(big)) });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as { error: { code: string } }).error.code, 'request_too_large');
    const streamed = await gateway.request('/v1/messages', {
      method: 'POST',
      body: new Blob([big]).stream(),
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(streamed.status, 413);
    assert.deepEqual(((await streamed.json()) as { error: unknown }).error, { type: 'request_too_large', message: "the request body is larger than the gateway's limit of 4096 bytes" });
  });

  test('a principal header that could not name anyone is a 400', async () => {
    const response = await post('/v1/chat/completions', JSON.stringify(hello), { 'keel-principal': ' ada\u0007' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { param: string } }).error.param, 'keel-principal');
  });

  test('an unknown URL is a 404 in the shape of the API it was meant for', async () => {
    const openai = await gateway.request('/v1/completions', { method: 'POST', body: '{}' });
    assert.equal(openai.status, 404);
    assert.match(((await openai.json()) as { error: { message: string } }).error.message, /^Invalid URL \(POST \/v1\/completions\)/);
    const anthropic = await gateway.request('/v1/messages/batches', { method: 'POST', body: '{}', headers: { 'anthropic-version': '2023-06-01' } });
    assert.equal(anthropic.status, 404);
    assert.equal(((await anthropic.json()) as { error: { type: string } }).error.type, 'not_found_error');
  });

  test('none of the refused requests opened a run; a good one did', async () => {
    assert.equal((await gateway.keel.store.listRuns({ limit: 100 })).length, 0);
    const response = await post('/v1/chat/completions', JSON.stringify(hello));
    assert.equal(response.status, 200);
    const runs = await gateway.keel.store.listRuns({ limit: 100 });
    assert.deepEqual(runs.map((run) => [run.id, run.task, run.status]), [[response.headers.get('keel-run-id'), 'gateway:sim:default', 'ok']]);
  });
});

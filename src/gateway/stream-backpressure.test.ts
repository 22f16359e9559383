import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { StreamFlow } from './sse-relay.ts';
import { relayQueueBytes } from './sse-relay.ts';
import type { TestGateway } from './testing/index.ts';
import { FloodUpstream, startTestGateway } from './testing/index.ts';

// A provider that answers as fast as its socket takes it, and a client that reads nothing at first,
// then a few MB at a time, stopping in between until the gateway has held the upstream (its queue
// full, the provider waiting on its socket). The answer is larger than what the sockets in between
// hold (the kernel's loopback buffers reach several MB here), so a gateway that read the upstream
// ahead of its client would let the provider finish before any pause, and be caught.
const answerBytes = 16 * 1024 * 1024;
const deltaText = 'p'.repeat(8_000);
/** Client bytes read between pauses. */
const stepBytes = 2 * 1024 * 1024;
/** What the relay may queue: its mark, overshot by at most the events of one part. */
const queueBound = relayQueueBytes + 2 * deltaText.length;

const upstream = new FloodUpstream({ answerBytes, deltaText });
let served: TestGateway;
const flows: StreamFlow[] = [];

before(async () => {
  const baseURL = await upstream.start();
  served = await startTestGateway({
    environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL },
    // A server at another base URL is `openai-compatible`, priced here so the settlement can be checked.
    config: { version: 1, routes: [], prices: { version: 'flood-test', models: { 'openai-compatible:gpt-4o-mini': { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } } } },
    onStream: (flow) => flows.push(flow),
  });
});
after(async () => {
  await served.close();
  await upstream.close();
});

/** Opens a stream and returns its response, unread. */
async function openStream(path: string, body: unknown): Promise<IncomingMessage> {
  upstream.reset();
  flows.length = 0;
  const client = httpRequest(`${served.url}${path}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  client.end(JSON.stringify(body));
  const [response] = (await once(client, 'response')) as [IncomingMessage];
  assert.equal(response.statusCode, 200);
  return response;
}

function theFlow(): StreamFlow {
  assert.equal(flows.length, 1);
  return flows[0] as StreamFlow;
}

/**
 * The client is not reading: waits until the gateway holds the upstream, then checks what the
 * gateway queues. False when the upstream finished first (the rest of the answer fit in the sockets).
 */
async function checkHeld(flow: StreamFlow): Promise<boolean> {
  for (;;) {
    await flow.held();
    await upstream.blocked();
    if (upstream.finished) return false;
    // The gateway took more from the upstream meanwhile; it will hold again, as the client still reads nothing.
    if (!flow.holding) continue;
    assert.ok(flow.queuedBytes <= queueBound, `the gateway queues ${flow.queuedBytes} bytes for a client that is not reading`);
    assert.ok(upstream.produced < answerBytes, `the upstream produced ${upstream.produced} bytes before the client read them`);
    return true;
  }
}

/** Pauses before reading and after every step, then reads the whole body. */
async function readSlowly(response: IncomingMessage, flow: StreamFlow): Promise<{ text: string; holds: number }> {
  response.pause();
  let holds = (await checkHeld(flow)) ? 1 : 0;
  const pieces: Buffer[] = [];
  let received = 0;
  let nextPause = stepBytes;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    pieces.push(chunk);
    received += chunk.length;
    if (received >= nextPause) {
      nextPause += stepBytes;
      if (await checkHeld(flow)) holds += 1;
    }
  }
  return { text: Buffer.concat(pieces).toString('utf8'), holds };
}

function dataOf(text: string): unknown[] {
  return text
    .split('\n\n')
    .flatMap((event) => event.split('\n').filter((line) => line.startsWith('data: ')))
    .map((line) => line.slice('data: '.length))
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as unknown);
}

async function assertSettled(runId: string | string[] | undefined): Promise<void> {
  await served.gateway.settled();
  const run = await served.run(typeof runId === 'string' ? runId : null);
  assert.equal(run.status, 'ok');
  assert.equal(run.inputTokens, 9);
  assert.equal(run.outputTokens, upstream.contentParts, 'settled from the usage the upstream reported');
  assert.equal(run.costMicros, run.inputTokens * 1 + run.outputTokens * 2);
}

describe('a stream read slowly', () => {
  test('chat completions: the upstream is read only as fast as the client, the gateway buffers a bounded amount, and the answer arrives whole', async () => {
    const response = await openStream('/v1/chat/completions', { model: 'openai:gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'flood' }] });
    const flow = theFlow();
    const { text, holds } = await readSlowly(response, flow);
    assert.ok(holds >= 2, `the upstream was held at ${holds} of the client's pauses`);
    assert.ok(flow.holding === false);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const chunks = dataOf(text) as { choices: { delta: { content?: string } }[]; usage?: { completion_tokens: number } }[];
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(content.length, upstream.contentParts * deltaText.length, 'every delta arrived');
    assert.ok(content.length > answerBytes * 0.9);
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, upstream.contentParts);
    assert.ok(flow.peakQueuedBytes <= queueBound, `peak queue ${flow.peakQueuedBytes} bytes`);
    assert.equal(flow.sentBytes, Buffer.byteLength(text));
    await assertSettled(response.headers['keel-run-id']);
  });

  test('anthropic messages: the same bound, and the answer arrives whole', async () => {
    const response = await openStream('/v1/messages', { model: 'openai:gpt-4o-mini', stream: true, max_tokens: 100_000, messages: [{ role: 'user', content: 'flood' }] });
    const flow = theFlow();
    const { text, holds } = await readSlowly(response, flow);
    assert.ok(holds >= 2, `the upstream was held at ${holds} of the client's pauses`);
    assert.ok(flow.holding === false);
    const events = dataOf(text) as { type: string; delta?: { text?: string }; usage?: { output_tokens: number } }[];
    assert.equal(events.at(-1)?.type, 'message_stop');
    const content = events.map((event) => (event.type === 'content_block_delta' ? (event.delta?.text ?? '') : '')).join('');
    assert.equal(content.length, upstream.contentParts * deltaText.length, 'every delta arrived');
    assert.equal(events.find((event) => event.type === 'message_delta')?.usage?.output_tokens, upstream.contentParts);
    assert.ok(flow.peakQueuedBytes <= queueBound, `peak queue ${flow.peakQueuedBytes} bytes`);
    await assertSettled(response.headers['keel-run-id']);
  });

  test('a client that stops reading and then disconnects is settled from the usage, without the answer buffered', async () => {
    const response = await openStream('/v1/chat/completions', { model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'flood' }] });
    const flow = theFlow();
    // Not one byte is read: the gateway fills its queue, then holds the upstream.
    response.pause();
    assert.equal(await checkHeld(flow), true, 'the upstream was held while the client read nothing');
    const producedWhenLeft = upstream.produced;
    response.destroy();
    // Settled from the usage: the upstream was read to its end after the client left.
    await assertSettled(response.headers['keel-run-id']);
    assert.ok(upstream.produced > producedWhenLeft);
    assert.ok(flow.peakQueuedBytes <= queueBound, `peak queue ${flow.peakQueuedBytes} bytes`);
  });
});

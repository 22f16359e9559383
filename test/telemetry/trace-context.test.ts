import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createGateway } from '../../src/gateway/index.ts';
import { openStore } from '../../src/store/index.ts';
import { journalSpans, openOtlpSpanSender } from '../../src/telemetry/index.ts';

// A caller's `traceparent` reaches the gateway's journal and the run's spans join the caller's
// trace, as the OTLP receiver sees them; a call without one gets a trace of its own.
const folder = mkdtempSync(join(tmpdir(), 'keel-trace-context-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const callerSpan = '00f067aa0ba902b7';

test('a gateway call with traceparent is traced under the caller’s span; prompts are referenced by journal hash only when asked', async () => {
  const database = join(folder, 'keel.db');
  const gateway = await createGateway({ database, environment: {} });
  try {
    for (const traceparent of [`00-${callerTrace}-${callerSpan}-01`, undefined]) {
      const response = await gateway.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(traceparent === undefined ? {} : { traceparent }) },
        body: JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: 'Hello' }] }),
      });
      assert.equal(response.status, 200, await response.text());
    }
  } finally {
    await gateway.close();
  }

  const store = await openStore({ database, create: false, readOnly: true, environment: {} });
  const received: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const decoded = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: (typeof received)[number][] }[] }[] };
      for (const resource of decoded.resourceSpans) for (const scope of resource.scopeSpans) received.push(...scope.spans);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sender = await openOtlpSpanSender({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces` });
  try {
    const journals = await Promise.all((await store.listRuns()).map((run) => store.readJournal(run.id)));
    assert.equal(journals.length, 2);
    // Told apart by what the gateway journaled, not by the order runs are listed in.
    const callerJournal = journals.find((records) => records.some((record) => record.type === 'request-receive' && (record.data as { traceparent?: string }).traceparent !== undefined));
    const ownJournal = journals.find((records) => records !== callerJournal);
    assert.ok(callerJournal !== undefined && ownJournal !== undefined);
    const traced = journalSpans(callerJournal, { captureContent: true });
    const untraced = journalSpans(ownJournal, { captureContent: true });

    const root = traced.find((span) => span.name === 'invoke_agent gateway:sim:default');
    assert.ok(root !== undefined);
    assert.equal(root.traceId, callerTrace);
    assert.equal(root.parentSpanId, callerSpan);
    assert.equal(root.parentIsRemote, true);
    const chat = traced.find((span) => span.name === 'chat sim:default');
    assert.ok(chat !== undefined);
    assert.equal(chat.traceId, callerTrace);
    assert.equal(chat.parentSpanId, root.spanId);
    // Content by reference: the journal events holding the request and the answer.
    const journal = callerJournal;
    const start = journal.find((record) => record.seq === chat.attributes['keel.input.journal_seq']);
    assert.equal(start?.type, 'step-start');
    assert.equal(chat.attributes['keel.input.journal_hash'], start?.hash);
    assert.equal(journal.find((record) => record.hash === chat.attributes['keel.output.journal_hash'])?.type, 'step-end');
    assert.ok(!JSON.stringify(chat.attributes).includes('Hello'), 'no prompt text in the span');

    const ownRoot = untraced.find((span) => span.name.startsWith('invoke_agent'));
    assert.ok(ownRoot !== undefined);
    assert.notEqual(ownRoot.traceId, callerTrace);
    assert.equal(ownRoot.parentSpanId, undefined);

    await sender.send([...traced, ...untraced]);
    const sentRoot = received.find((span) => span.spanId === root.spanId);
    assert.equal(sentRoot?.traceId, callerTrace);
    assert.equal(sentRoot?.parentSpanId, callerSpan);
    assert.equal(received.find((span) => span.spanId === ownRoot.spanId)?.parentSpanId ?? '', '');
  } finally {
    await sender.close();
    server.closeAllConnections();
    server.close();
    await store.close();
  }
});

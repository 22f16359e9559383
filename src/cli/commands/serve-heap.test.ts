import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { listeningURL, startKeel } from '../../../test/gateway-load/keel-child.ts';
import { KeelError } from '../../errors/index.ts';
import { compactHeapFlags, compactYoungGenerationBytes, heapTuning } from './serve-heap.ts';

const launcher = join(import.meta.dirname, '..', '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-serve-heap-'));
after(() => rmSync(folder, { recursive: true, force: true }));
// A heap flag in an inherited NODE_OPTIONS, or an inherited KEEL_SERVE_HEAP, would decide the heap instead of the test.
const notInherited = /^(OPENAI_|ANTHROPIC_|KEEL_|NODE_OPTIONS$)/;
const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !notInherited.test(name)));

describe("keel serve sizes V8's heap", () => {
  test("V8 sizes the heap by default; compact is asked for, and heap flags given to Node win over it", () => {
    assert.equal(heapTuning({}, []), undefined);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: 'compact' }, []), compactHeapFlags);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: ' ' }, []), undefined);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: 'node' }, []), undefined);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: 'node', NODE_OPTIONS: '--enable-source-maps' }, []), undefined);
    assert.equal(heapTuning({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=512' }, []), undefined);
    assert.equal(heapTuning({ NODE_OPTIONS: '--max_semi_space_size=8' }, []), undefined);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: 'compact' }, ['--max-semi-space-size', '16']), undefined);
    assert.equal(heapTuning({ KEEL_SERVE_HEAP: 'compact', NODE_OPTIONS: '--enable-source-maps' }, ['--conditions=keel-source']), compactHeapFlags);
    assert.throws(
      () => heapTuning({ KEEL_SERVE_HEAP: 'small' }, []),
      (error: unknown) => error instanceof KeelError && error.code === 'usage-invalid' && /^KEEL_SERVE_HEAP must be node .* or compact .*; got "small"$/.test(error.message),
    );
  });

  test('the real keel serve with KEEL_SERVE_HEAP=compact stops its young generation at 16 MB, or one doubling past it, through start-up and requests (V8 alone grows it to 64 MB here), as its metrics show', { timeout: 60_000 }, async () => {
    const served = startKeel(['serve', '--port', '0', '--db', join(folder, 'keel.db')], { KEEL_SERVE_HEAP: 'compact' }, { withoutVariables: notInherited });
    try {
      const url = await listeningURL(served);
      // Some 60 runs allocate far more than V8's initial young generation: left to itself, V8 grows it.
      for (let index = 0; index < 60; index += 1) {
        const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sim:fast', messages: [{ role: 'user', content: `Hello ${index}` }] }) });
        assert.equal(response.status, 200);
        await response.arrayBuffer();
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const newSpace = Number(/^keel_process_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(metrics)?.[1]);
      assert.ok(newSpace > 0 && newSpace <= 2 * compactYoungGenerationBytes, `young generation ${newSpace} bytes`);
    } finally {
      served.child.kill('SIGTERM');
    }
    assert.equal((await served.exited).code, 0, served.output());
  });

  test('a KEEL_SERVE_HEAP it does not know stops keel serve in one line, before it listens', () => {
    const result = spawnSync(process.execPath, [launcher, 'serve', '--port', '0', '--db', join(folder, 'never.db')], { env: { ...environment, KEEL_SERVE_HEAP: 'tiny' }, encoding: 'utf8' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^keel: error \[usage-invalid\]: KEEL_SERVE_HEAP must be node .* got "tiny"\n$/);
  });
});

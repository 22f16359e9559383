/**
 * A `keel` process the gateway-load tests start and kill (`keel serve`, `keel worker`), what it
 * says as it runs, and the reads they make of the store it writes.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { JournalEvent } from '../../src/journal/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';
import { childEnvironment, launcher } from '../cli-hygiene/keel-process.ts';

export interface KeelChild {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed, stdout then stderr. */
  output: () => string;
  /** Resolves with the first line it printed (on stdout or stderr) matching `pattern`, once there is one. */
  said: (pattern: RegExp) => Promise<string>;
}

export interface KeelChildOptions {
  /** Arguments to Node itself, placed before the launcher (`--import` a preload). */
  nodeArguments?: string[];
  /**
   * Variables whose names match are left out of the child's environment, unless `environment`
   * sets them: what this process inherited (an OTLP endpoint, NODE_OPTIONS) must not change what
   * the child does. Give it without the `g` flag, with which RegExp.test keeps state between names.
   */
  withoutVariables?: RegExp;
}

/** Starts `keel ARGS` with `environment` added to a clean child environment. */
export function startKeel(args: string[], environment: Record<string, string>, options: KeelChildOptions = {}): KeelChild {
  const { nodeArguments = [], withoutVariables } = options;
  const clean = childEnvironment(environment);
  const env = withoutVariables === undefined ? clean : Object.fromEntries(Object.entries(clean).filter(([name]) => Object.hasOwn(environment, name) || !withoutVariables.test(name)));
  const child = spawn(process.execPath, [...nodeArguments, launcher, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const heard = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    heard();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    heard();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const said = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = `${stdout}\n${stderr}`.split('\n').find((candidate) => pattern.test(candidate));
        if (line === undefined) return;
        listeners.delete(check);
        resolve(line);
      };
      listeners.add(check);
      check();
      void exited.then(() => reject(new Error(`keel ${args[0] ?? ''} exited before saying ${String(pattern)}: ${stdout}\n${stderr}`)));
    });
  return { child, exited, output: () => `${stdout}\n${stderr}`, said };
}

/** The base URL a `keel serve` child listens on, once it says so. */
export async function listeningURL(served: KeelChild): Promise<string> {
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(await served.said(/listening on http/))?.[1];
  assert.ok(url !== undefined);
  return url;
}

/** Asks the gateway at `url` for a streamed chat answer of at most 500 tokens; the answer has begun (200) and names its run. */
export async function startStreamedChat(url: string, content: string): Promise<{ response: Response; runId: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, max_tokens: 500, messages: [{ role: 'user', content }] }),
  });
  assert.equal(response.status, 200);
  const runId = response.headers.get('keel-run-id');
  assert.ok(runId !== null);
  return { response, runId };
}

/** Reads a streamed answer until `text` has arrived; returns its reader, to cancel later. */
export async function readUntil(response: Response, text: string): Promise<{ cancel: () => Promise<void> }> {
  const reader = response.body?.getReader();
  assert.ok(reader !== undefined, 'the answer has no body');
  let received = '';
  while (!received.includes(text)) {
    const chunk = await reader.read();
    assert.ok(!chunk.done, `the stream ended before ${JSON.stringify(text)} arrived`);
    received += new TextDecoder().decode(chunk.value as Uint8Array);
  }
  return { cancel: () => reader.cancel() };
}

/** Reads the run's journal until `holds` is true of it (a child writes it; this process only reads). */
export async function journalOnceItHolds(database: string, runId: string, holds: (events: readonly JournalEvent[]) => boolean): Promise<readonly JournalEvent[]> {
  const store = await openStore({ database, create: false, readOnly: true, environment: {} });
  try {
    for (;;) {
      const { events } = await loadRun(store, runId);
      if (holds(events)) return events;
      // Polling a condition the child makes true; the test's timeout bounds it.
      await delay(20);
    }
  } finally {
    await store.close();
  }
}

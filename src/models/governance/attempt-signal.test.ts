/**
 * An attempt's signal follows its sources (the retry's, the attempt timer's, the caller's) and,
 * once unlinked at the attempt's end, leaves no listener on them: the caller's signal lives as
 * long as the run, and what it references cannot be collected while it holds one per attempt.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { linkedSignal } from './attempt-timer.ts';

test('a linked signal aborts with the reason of the first source that aborts', () => {
  const caller = new AbortController();
  const timer = new AbortController();
  const attempt = linkedSignal([caller.signal, timer.signal]);
  assert.equal(attempt.signal.aborted, false);
  const reason = new DOMException('no answer within 5 ms', 'TimeoutError');
  timer.abort(reason);
  assert.equal(attempt.signal.aborted, true);
  assert.equal(attempt.signal.reason, reason);
  // Aborting stops following the others.
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
});

test('a source already aborted aborts the linked signal at once', () => {
  const caller = new AbortController();
  caller.abort(new Error('deadline'));
  const attempt = linkedSignal([new AbortController().signal, caller.signal]);
  assert.equal(attempt.signal.aborted, true);
  assert.equal((attempt.signal.reason as Error).message, 'deadline');
});

test('unlinking at the attempt end leaves no listener on a long-lived source', () => {
  const caller = new AbortController();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const linked = linkedSignal([caller.signal, new AbortController().signal]);
    linked.signal.addEventListener('abort', () => undefined);
    linked.unlink();
  }
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  // After unlinking, the caller's abort no longer reaches a finished attempt.
  const finished = linkedSignal([caller.signal]);
  finished.unlink();
  caller.abort();
  assert.equal(finished.signal.aborted, false);
});

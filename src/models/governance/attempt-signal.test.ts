/**
 * An attempt's signal follows its sources (the retry's, the caller's) and its own timer and,
 * once unlinked at the attempt's end, leaves no listener on them: the caller's signal lives as
 * long as the run, and what it references cannot be collected while it holds one per attempt.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { AttemptTimer } from './attempt-timer.ts';

test("an attempt's signal aborts with the reason of the first source that aborts, and the timer has not fired", () => {
  const caller = new AbortController();
  const retry = new AbortController();
  const timer = new AttemptTimer(30_000, [retry.signal, caller.signal]);
  timer.arm();
  assert.equal(timer.signal.aborted, false);
  const reason = new Error('deadline');
  caller.abort(reason);
  assert.equal(timer.signal.aborted, true);
  assert.equal(timer.signal.reason, reason);
  assert.equal(timer.fired, false);
  // Aborting stops following the others.
  assert.equal(getEventListeners(retry.signal, 'abort').length, 0);
  timer.disarm();
});

test("an attempt's timer running out aborts its signal with a TimeoutError and stops following its sources", (context) => {
  context.mock.timers.enable({ apis: ['setTimeout'] });
  const caller = new AbortController();
  const timer = new AttemptTimer(5, [caller.signal]);
  timer.arm();
  context.mock.timers.tick(4);
  assert.equal(timer.signal.aborted, false);
  context.mock.timers.tick(1);
  assert.equal(timer.signal.aborted, true);
  assert.equal((timer.signal.reason as DOMException).name, 'TimeoutError');
  assert.equal(timer.fired, true);
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
});

test('a disarmed timer never fires; an attempt whose signal was aborted is not armed again', (context) => {
  context.mock.timers.enable({ apis: ['setTimeout'] });
  const caller = new AbortController();
  const timer = new AttemptTimer(5, [caller.signal]);
  timer.arm();
  timer.disarm();
  context.mock.timers.tick(10);
  assert.equal(timer.signal.aborted, false);
  caller.abort(new Error('gone'));
  timer.arm();
  context.mock.timers.tick(10);
  assert.equal(timer.fired, false);
  assert.equal((timer.signal.reason as Error).message, 'gone');
});

test("a source already aborted aborts the attempt's signal at once", () => {
  const caller = new AbortController();
  caller.abort(new Error('deadline'));
  const timer = new AttemptTimer(30_000, [new AbortController().signal, caller.signal]);
  assert.equal(timer.signal.aborted, true);
  assert.equal((timer.signal.reason as Error).message, 'deadline');
});

test('unlinking at the attempt end leaves no listener on a long-lived source', () => {
  const caller = new AbortController();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const timer = new AttemptTimer(30_000, [caller.signal, new AbortController().signal]);
    timer.signal.addEventListener('abort', () => undefined);
    timer.unlink();
  }
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  // After unlinking, the caller's abort no longer reaches a finished attempt.
  const finished = new AttemptTimer(30_000, [caller.signal]);
  finished.unlink();
  caller.abort();
  assert.equal(finished.signal.aborted, false);
});

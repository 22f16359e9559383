import assert from 'node:assert/strict';
import type { StreamPartV1, StreamResultV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';

/** Drains a stream into an array (tests only). */
export async function collectParts(result: StreamResultV1): Promise<StreamPartV1[]> {
  const parts: StreamPartV1[] = [];
  for await (const part of result.stream) parts.push(part);
  return parts;
}

/** Awaits a failure and returns it as a ModelCallError, failing the test on anything else. */
export async function modelCallErrorOf(work: () => Promise<unknown>): Promise<ModelCallError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof ModelCallError, `expected a ModelCallError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

import type { JsonValue } from '../spec/index.ts';
import type { RunState } from './fold.ts';

/**
 * How a model call's request is journaled. A conversation resends every earlier message on each
 * turn; journaling all of it every time made a run's journal grow with the square of its length.
 * So a request that continues the run's previous one is journaled as a reference to that step
 * (its first `messages` messages, and its tools when they are the same) plus what is new.
 */
export interface RecordedModelInput {
  provider: string;
  modelId: string;
  request: JsonValue;
  base?: { step: number; messages: number; tools: boolean };
}

type RequestObject = { [key: string]: JsonValue };

/**
 * Encodes `request` against the previous request of the run, as live objects: messages are taken
 * as immutable once sent (shared by identity), which is how agent loops build conversations.
 */
export function encodeModelRequest(
  request: RequestObject,
  previous: { step: number; request: RequestObject } | undefined,
): Pick<RecordedModelInput, 'request' | 'base'> {
  const messages = request.messages;
  const earlier = previous?.request.messages;
  if (previous === undefined || !Array.isArray(messages) || !Array.isArray(earlier)) return { request };
  let shared = 0;
  while (shared < messages.length && shared < earlier.length && messages[shared] === earlier[shared]) shared += 1;
  const sameTools = request.tools !== undefined && request.tools === previous.request.tools;
  if (shared === 0 && !sameTools) return { request };
  const { tools, ...rest } = request;
  const delta: RequestObject = { ...rest, messages: messages.slice(shared) };
  if (!sameTools && tools !== undefined) delta.tools = tools;
  return { request: delta, base: { step: previous.step, messages: shared, tools: sameTools } };
}

const expanded = new WeakMap<RunState, Map<number, RequestObject | undefined>>();

/** The full request a model step sent, rebuilt from the journal by following its references. */
export function expandModelRequest(state: RunState, step: number): RequestObject | undefined {
  let cache = expanded.get(state);
  if (cache === undefined) {
    cache = new Map();
    expanded.set(state, cache);
  }
  if (cache.has(step)) return cache.get(step);
  const input = state.steps.get(step)?.input as RecordedModelInput | undefined;
  let result: RequestObject | undefined;
  if (input !== undefined && typeof input.request === 'object' && input.request !== null && !Array.isArray(input.request)) {
    const own = input.request;
    if (input.base === undefined || input.base.step >= step) result = own;
    else {
      const base = expandModelRequest(state, input.base.step);
      const baseMessages = Array.isArray(base?.messages) ? base.messages : [];
      const ownMessages = Array.isArray(own.messages) ? own.messages : [];
      result = { ...own, messages: [...baseMessages.slice(0, input.base.messages), ...ownMessages] };
      if (input.base.tools && base?.tools !== undefined) result.tools = base.tools;
    }
  }
  cache.set(step, result);
  return result;
}

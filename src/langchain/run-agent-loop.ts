/**
 * `runAgentLoop(run, () => agent.invoke(…))`. LangChain wraps whatever a middleware throws in its
 * MiddlewareError, which the engine does not know: a budget stop would end the run as a plain
 * failure, an approval wait would not park it. This hands the engine what is inside (a KeelError
 * with its code, the engine's own stop), and rethrows a stop of the run inside a tool that the
 * loop talked past, so the run ends as Keel ends any run.
 */
import { MiddlewareError } from 'langchain';
import { throwIfRunInterrupted } from '../framework/index.ts';

export async function runAgentLoop<Result>(run: object, loop: () => Promise<Result>): Promise<Result> {
  let result: Result;
  try {
    result = await loop();
  } catch (error) {
    throwIfRunInterrupted(run);
    throw unwrapped(error);
  }
  throwIfRunInterrupted(run);
  return result;
}

/** The error a middleware threw, from inside LangChain's wrapping (once per middleware it passed through). */
function unwrapped(error: unknown): unknown {
  let inner = error;
  for (let depth = 0; depth < 32 && MiddlewareError.isInstance(inner) && inner.cause !== undefined; depth += 1) inner = inner.cause;
  return inner;
}

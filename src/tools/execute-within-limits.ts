import { KeelError } from '../errors/index.ts';
import type { AnyToolV1, JsonValue, ToolCallContextV1 } from '../spec/index.ts';
import type { ToolStepInfo } from './tool-run-context.ts';
import { outputChecker } from './tool-schema.ts';
import { validationErrorsOf } from './validation-errors.ts';

/** Is running this call twice harmless? Reads are; effects are when the downstream system deduplicates. */
export function isSafeToRepeat(tool: AnyToolV1): boolean {
  return tool.sideEffect === 'read' || tool.deduplicatesOnKey === true;
}

/**
 * Runs a tool inside its durable step: under its own timeout as well as the step's signal, and
 * returning only output its schema accepts. A tool that ignores its signal is abandoned at the
 * timeout rather than awaited; what it does afterwards is why effects need idempotency keys.
 */
export async function executeWithinLimits(tool: AnyToolV1, args: JsonValue, context: ToolCallContextV1, step: ToolStepInfo): Promise<JsonValue> {
  // A cleared timer rather than AbortSignal.timeout: a pending timer would keep the call's
  // arguments and run state alive until it fired, long after the tool answered.
  const timer = new AbortController();
  const timeout = timer.signal;
  const clock = setTimeout(() => timer.abort(new DOMException(`no answer within ${tool.timeoutMs} ms`, 'TimeoutError')), tool.timeoutMs);
  const signal = AbortSignal.any([step.signal, timeout]);
  let stopWaiting: (() => void) | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    stopWaiting = () => reject(abortError(tool, step.signal, timeout));
    if (signal.aborted) stopWaiting();
    else signal.addEventListener('abort', stopWaiting, { once: true });
  });
  let result: unknown;
  try {
    const running = Promise.resolve().then(() => tool.execute(args, { ...context, idempotencyKey: step.idempotencyKey, attempt: step.attempt, signal }));
    result = await Promise.race([running, abandoned]);
  } catch (error) {
    if (error instanceof KeelError || step.signal.aborted) throw error;
    throw new KeelError('tool-error', `tool ${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    clearTimeout(clock);
    // The step's signal outlives this call; a listener left on it would keep the call's closure alive.
    if (stopWaiting !== undefined) signal.removeEventListener('abort', stopWaiting);
  }
  const output = outputChecker(tool).safeParse(result);
  if (!output.success) {
    throw new KeelError('tool-output-invalid', `tool ${tool.name} returned output that does not match its schema; it is not passed on`, {
      details: { reason: 'output-invalid', validationErrors: validationErrorsOf(output.error) },
    });
  }
  return output.data as JsonValue;
}

function abortError(tool: AnyToolV1, stepSignal: AbortSignal, timeout: AbortSignal): Error {
  // The run's own signal (deadline, lost lease) wins: the engine decides the run's fate from its
  // own state, whatever this step throws.
  if (stepSignal.aborted || !timeout.aborted) {
    const reason: unknown = stepSignal.reason;
    return reason instanceof Error ? reason : new Error(`tool ${tool.name} was stopped: ${String(reason)}`);
  }
  return new KeelError('tool-timeout', `tool ${tool.name} did not finish within ${tool.timeoutMs} ms`, {
    // A timed-out effect may or may not have happened: only a repeatable call may simply be retried.
    retryable: isSafeToRepeat(tool),
    details: { reason: 'timeout', timeoutMs: tool.timeoutMs },
  });
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventData, StepDetailType } from './events.ts';

/** What code running inside a journaled step can see of it, without being handed it. */
export interface StepScope {
  runId: string;
  task: string;
  tenant: string;
  principal: string;
  step: number;
  signal: AbortSignal;
  /** Journals a detail of this step (an attempt, a wait, a routing decision). */
  record<Type extends StepDetailType>(type: Type, data: Omit<EventData[Type], 'step'>): void;
}

const storage = new AsyncLocalStorage<StepScope>();

/**
 * Runs `work` inside a step's scope. Middleware deep in a model call (retries, breakers, budgets)
 * journals through the scope instead of every layer passing a journal along.
 */
export function runInStep<Result>(scope: StepScope, work: () => Result): Result {
  return storage.run(scope, work);
}

/** The step the caller is running in, if any: a model called outside a run has none. */
export function currentStep(): StepScope | undefined {
  return storage.getStore();
}

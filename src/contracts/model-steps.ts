import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1 } from '../spec/index.ts';
import type { ContractModelCall } from './generate-with-contract.ts';

/** The one thing contracts need from a run: a journaled model call (the engine's RunContext has it). */
export interface ModelStepRunner {
  model(name: string, model: LanguageModelV1, options: GenerateOptionsV1): Promise<GenerateResultV1>;
}

/** Each contract attempt as a durable model step of the run: `modelSteps(context, model)`. */
export function modelSteps(context: ModelStepRunner, model: LanguageModelV1): ContractModelCall {
  return (stepName, request) => context.model(stepName, model, request);
}

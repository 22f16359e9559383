import type { JsonValue, ModelStreamingV1, RunContextV1, StepInfoV1, StepOptionsV1, ToolOptionsV1 } from '../spec/index.ts';
import type { EventData, RunDetailType } from '../journal/index.ts';

export type StepInfo = StepInfoV1;
export type StepOptions = StepOptionsV1;
export type ToolOptions = ToolOptionsV1;
export type ModelStreaming = ModelStreamingV1;

/** The decisions a task journals between steps: the journal's run-detail events, by type. */
export type RunDetails = { [Type in RunDetailType]: EventData[Type] };

/** What a task function sees (RunContextV1, src/spec/run-context-v1.ts), over the journal's events; the engine's has every optional call. */
export type RunContext = RunContextV1<RunDetails> & Required<Pick<RunContextV1<RunDetails>, 'embed'>>;

export interface TaskDefinition<Input extends JsonValue = JsonValue, Output extends JsonValue = JsonValue> {
  name: string;
  version: string;
  /** Everything that shapes the run's behaviour (models, prompts, limits): hashed into run-start. */
  config?: JsonValue;
  /**
   * Limit on the run's working time: wall-clock from its start, minus time spent waiting for a
   * person's decision on an approval. Steps, model calls and tools see it through their abort
   * signal; when it passes the run ends `failed` with `deadline-exceeded`.
   */
  deadlineMs?: number;
  run(context: RunContext, input: Input): Promise<Output>;
}

export function defineTask<Input extends JsonValue, Output extends JsonValue>(definition: TaskDefinition<Input, Output>): TaskDefinition<Input, Output> {
  return definition;
}

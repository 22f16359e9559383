import type { RunContextV1, StepInfoV1 } from '../spec/index.ts';

/** What a durable step hands its work. */
export type ToolStepInfo = StepInfoV1;

/** The part of a run's context (RunContextV1) a governed tool call needs; the engine's RunContext fits. */
export type ToolRunContext = Pick<RunContextV1, 'runId' | 'task' | 'principal' | 'tenant' | 'step' | 'tool'>;

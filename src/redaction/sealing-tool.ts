import { KeelError } from '../errors/index.ts';
import type { ClassificationV1, JsonValue } from '../spec/index.ts';
import type { SealingRunContext } from './subjects-to-seal.ts';
import { canSeal, subjectsToSeal } from './subjects-to-seal.ts';

interface DeclaredLabels {
  classification?: ClassificationV1;
  subjects?: string[];
  parts?: { labels: { classification?: ClassificationV1; subjects?: string[] } }[];
}

/** What this needs of a tool: its name, its execute, and the labels it declares for its results. */
interface LabelledTool {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any tool's arguments and execution context pass through unchanged
  execute: (args: any, execution: any) => unknown;
  access?: { resultLabels?: (output: JsonValue, args: Record<string, JsonValue>, run: { runId: string; task: string; tenant: string; principal: string }) => DeclaredLabels };
}

/**
 * The tool with its results sealed in the journal when they are labelled personal or confidential
 * with subjects: the subjects are handed to the run before the tool's step ends, so the step's
 * value is journaled sealed, and so is every payload field after it (run-sealer.ts). A context
 * that cannot seal (a replay, a test double) gets the tool unchanged.
 */
export function sealingToolResults<Tool extends LabelledTool>(context: object & { runId: string; task: string; tenant: string; principal: string }, tool: Tool): Tool {
  const resultLabels = tool.access?.resultLabels;
  if (resultLabels === undefined || !canSeal(context)) return tool;
  const sealing: SealingRunContext = context;
  return {
    ...tool,
    execute: async (args: unknown, execution: unknown) => {
      const output = (await tool.execute(args, execution)) as JsonValue;
      const argumentsGiven = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, JsonValue>) : {};
      const declared = resultLabels(output, argumentsGiven, { runId: context.runId, task: context.task, tenant: context.tenant, principal: context.principal });
      const whole = { classification: declared.classification ?? 'internal', subjects: declared.subjects };
      const subjects = subjectsToSeal([whole, ...(declared.parts ?? []).map((part) => ({ classification: part.labels.classification ?? whole.classification, subjects: part.labels.subjects ?? declared.subjects }))]);
      if (subjects.length > 0 && !(await sealing.sealSubjects(subjects))) {
        throw new KeelError('redaction-unavailable', `${tool.name} returned data about ${subjects.join(', ')}, but the store keeps no subject keys to seal it with`);
      }
      return output;
    },
  };
}

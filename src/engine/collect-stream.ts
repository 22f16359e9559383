import { KeelError } from '../errors/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, StreamPartV1, TextPartV1, ToolCallPartV1 } from '../spec/index.ts';

/** A governed stream also says, once it ends, what the call cost (see the models component's GovernedModel). */
interface SettledStream {
  settlement?: Promise<{ cost: { micros: number; priceVersion: string } }>;
}

const failedStreamCosts = new WeakMap<object, { micros: number; priceVersion: string }>();

/** What a stream that failed part-way was billed, for its step's end event. */
export function costOfFailedStream(error: unknown): { micros: number; priceVersion: string } | undefined {
  return typeof error === 'object' && error !== null ? failedStreamCosts.get(error) : undefined;
}

/**
 * Streams a model call to `onPart` as it arrives and returns the same result `doGenerate` would:
 * a streamed step is journaled, resumed and replayed exactly like a generated one.
 */
export async function collectStream(model: LanguageModelV1, options: GenerateOptionsV1, onPart: (part: StreamPartV1) => void | Promise<void>): Promise<GenerateResultV1> {
  const opened = (await model.doStream(options)) as Awaited<ReturnType<LanguageModelV1['doStream']>> & SettledStream;
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  let result: Pick<GenerateResultV1, 'finishReason' | 'usage' | 'refusal'> | undefined;
  let response: GenerateResultV1['response'] = { id: '', modelId: model.modelId };
  try {
    for await (const part of opened.stream) {
      // A reader that is not ready for more holds the stream here, so the provider is read no faster than it.
      const held = onPart(part);
      if (held !== undefined) await held;
      switch (part.type) {
        case 'response-start':
          response = part.response;
          break;
        case 'text-delta': {
          const last = content.at(-1);
          if (last?.type === 'text') last.text += part.delta;
          else content.push({ type: 'text', text: part.delta });
          break;
        }
        case 'tool-call':
          content.push(part);
          break;
        case 'finish':
          result = { finishReason: part.finishReason, usage: part.usage, ...(part.refusal === undefined ? {} : { refusal: part.refusal }) };
          break;
        case 'tool-call-delta':
          break;
      }
    }
  } catch (error) {
    // A stream cut short is still billed (from its reservation); the failed step carries that cost
    // so the journal and the budget ledger agree.
    const settled = await opened.settlement?.catch(() => undefined);
    if (settled !== undefined && typeof error === 'object' && error !== null) failedStreamCosts.set(error, settled.cost);
    throw error;
  }
  // A stream that ended without its finish part errors in the adapter; this guards a model that does not.
  if (result === undefined) throw new KeelError('model-stream-truncated', `the stream of ${model.provider}:${model.modelId} ended without a finish part`);
  const settlement = opened.settlement === undefined ? undefined : await opened.settlement;
  return { content, response, ...result, ...(settlement === undefined ? {} : { cost: settlement.cost }) };
}

/**
 * A Keel model (the simulator, an OpenAI or Anthropic adapter, a governed route) as an AI SDK
 * LanguageModelV4, so `generateText` and `streamText` can call it. Only translation happens here;
 * governance and the journal come from `keelMiddleware` (or from handing in a governed model).
 */
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4GenerateResult, LanguageModelV4StreamPart, LanguageModelV4StreamResult, SharedV4Warning } from '@ai-sdk/provider';
import type { LanguageModelV1 } from '../spec/index.ts';
import { aiSdkErrorOf } from './ai-sdk-error.ts';
import { keelRequestOf, settingsKeelIgnores } from './call-options.ts';
import { aiSdkResultOf } from './generate-result.ts';
import { AiSdkStreamWriter } from './stream-parts.ts';

const keelModels = new WeakMap<object, LanguageModelV1>();

/** The Keel model behind an AI SDK model made by `aiSdkModelOf`, if it is one. */
export function keelModelBehind(model: LanguageModelV4): LanguageModelV1 | undefined {
  return keelModels.get(model);
}

export function aiSdkModelOf(model: LanguageModelV1): LanguageModelV4 {
  const url = `keel:${model.provider}:${model.modelId}`;
  const adapted: LanguageModelV4 = {
    specificationVersion: 'v4',
    provider: `keel.${model.provider}`,
    modelId: model.modelId,
    supportedUrls: {},
    async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
      const request = keelRequestOf(options);
      try {
        const result = await model.doGenerate(request);
        return { ...aiSdkResultOf(result), warnings: warningsFor(options) };
      } catch (error) {
        // Keel's adapters do not retry; the framework's retries apply as they would to any provider.
        throw aiSdkErrorOf(error, { url, keepRetryable: true });
      }
    },
    async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
      const request = keelRequestOf(options);
      let opened;
      try {
        opened = await model.doStream(request);
      } catch (error) {
        throw aiSdkErrorOf(error, { url, keepRetryable: true });
      }
      const writer = new AiSdkStreamWriter();
      const iterator = opened.stream[Symbol.asyncIterator]();
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            for (const part of writer.start(warningsFor(options))) controller.enqueue(part);
          },
          async pull(controller) {
            try {
              const next = await iterator.next();
              if (next.done === true) controller.close();
              else for (const part of writer.write(next.value)) controller.enqueue(part);
            } catch (error) {
              controller.error(aiSdkErrorOf(error, { url, keepRetryable: true }));
            }
          },
          async cancel() {
            await iterator.return?.();
          },
        }),
      };
    },
  };
  keelModels.set(adapted, model);
  return adapted;
}

/** What a Keel model leaves out of an AI SDK call, as the framework's `unsupported` warnings. */
export function warningsFor(options: LanguageModelV4CallOptions): SharedV4Warning[] {
  return settingsKeelIgnores(options).map((feature) => ({ type: 'unsupported', feature, details: 'Keel models have no such setting; it was not sent' }));
}

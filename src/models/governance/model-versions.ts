import type { LanguageModelV1, ResponseInfoV1 } from '../../spec/index.ts';

/** One answer's provider-reported version of a provider model, as a route called it. */
export interface ModelVersionObservation {
  route: string;
  provider: string;
  modelId: string;
  /** `reportedVersion` of the answer. */
  version: string;
  /** The run whose call this was (its own events are not evidence of an earlier version). */
  runId: string | undefined;
}

/**
 * Remembers the version each provider model last answered with, for the whole deployment (the
 * monitor's book reads it from the journal, so it holds across processes). `observe` returns the
 * previous version when this one differs from it, and remembers this one.
 */
export interface ModelVersionBook {
  observe(observation: ModelVersionObservation): Promise<string | undefined>;
}

/** What identifies the model that answered: its reported model id, and the backend fingerprint when there is one. */
export function reportedVersion(response: Pick<ResponseInfoV1, 'modelId' | 'systemFingerprint'>): string {
  return response.systemFingerprint === undefined ? response.modelId : `${response.modelId} (${response.systemFingerprint})`;
}

/**
 * A model called by its pinned version (`openai:gpt-4o-2024-08-06`) under its route name's
 * identity (`openai:gpt-4o`): prices, breakers, budgets and the journal keep naming the model the
 * route lists, while the provider is asked for the pinned version. Rolling back a model update is
 * pinning the route to the version it answered with before.
 */
export function pinnedModel(pinned: LanguageModelV1, identity: { provider: string; modelId: string }): LanguageModelV1 {
  const model: LanguageModelV1 = {
    specificationVersion: 'v1',
    provider: identity.provider,
    modelId: identity.modelId,
    doGenerate: (options) => pinned.doGenerate(options),
    doStream: (options) => pinned.doStream(options),
  };
  // Present only when the pinned model has it: whether a model makes embeddings is read from it.
  const embed = pinned.doEmbed?.bind(pinned);
  if (embed !== undefined) model.doEmbed = embed;
  return model;
}

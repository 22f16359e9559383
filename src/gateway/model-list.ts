import type { CatalogModel } from './model-catalog.ts';

/** GET /v1/models as OpenAI lists models: routes are owned by `keel`, models by their provider. */
export function openAIModelList(models: readonly CatalogModel[], created: number) {
  return { object: 'list', data: models.map((model) => openAIModel(model, created)) };
}

export function openAIModel(model: CatalogModel, created: number) {
  return { id: model.name, object: 'model', created, owned_by: model.route ? 'keel' : model.counting.provider };
}

/** The same list as Anthropic's (a client that sends `anthropic-version` gets this one). */
export function anthropicModelList(models: readonly CatalogModel[], created: number) {
  const data = models.map((model) => anthropicModel(model, created));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

export function anthropicModel(model: CatalogModel, created: number) {
  return { type: 'model', id: model.name, display_name: model.route ? `${model.name} (Keel route)` : model.name, created_at: new Date(created * 1_000).toISOString() };
}

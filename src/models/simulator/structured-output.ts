import type { ResponseFormatV1 } from '../../spec/index.ts';
import { isJson } from './corrupt-json.ts';
import { sampleFromSchema } from './schema-sample.ts';

/**
 * A text answer under `responseFormat: json`, as a model with native structured output gives it:
 * the script's own text when it already wrote JSON (the scenario knows best), otherwise a value
 * that follows the schema, drawn from `random`; with no schema, the text wrapped as `{"text": …}`.
 */
export function structuredText(text: string, format: ResponseFormatV1, random: () => number): string {
  if (isJson(text)) return text;
  if (format.schema === undefined) return JSON.stringify({ text });
  return JSON.stringify(sampleFromSchema(format.schema, random));
}

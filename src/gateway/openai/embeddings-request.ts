import { z } from 'zod';
import type { EmbedOptionsV1 } from '../../spec/index.ts';
import { requestIssue } from '../request-issue.ts';

/** An embeddings request, as Keel's native call. */
export interface EmbeddingsRequest {
  /** The route or `provider:model` the client named. */
  model: string;
  embed: EmbedOptionsV1;
  /** `base64`: each vector as little-endian float32 bytes, what the official clients ask for by default. */
  encoding: 'float' | 'base64';
}

const text = z.string().min(1, 'an input to embed cannot be an empty string');

// Token arrays (number[] inputs) are OpenAI-only and tokenizer-specific: a route may reach another
// provider, so only text is taken, and a token array is a 400 naming `input`.
const embeddingsRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([text, z.array(text).min(1).max(2_048)], { error: 'input must be a non-empty string or an array of 1 to 2048 non-empty strings (token arrays are not accepted)' }),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).max(4_096).optional(),
  user: z.string().optional(),
});

export function parseEmbeddingsRequest(body: Record<string, unknown>): EmbeddingsRequest {
  const parsed = embeddingsRequestSchema.safeParse(body);
  if (!parsed.success) throw requestIssue(parsed.error, body, 'openai');
  const request = parsed.data;
  const embed: EmbedOptionsV1 = { values: typeof request.input === 'string' ? [request.input] : request.input };
  if (request.dimensions !== undefined) embed.dimensions = request.dimensions;
  return { model: request.model, embed, encoding: request.encoding_format ?? 'float' };
}

/** Who is being called, carried through request mapping and error mapping so every error names it. */
export interface OpenAICall {
  provider: string;
  modelId: string;
  abortSignal?: AbortSignal | undefined;
  /** The `x-request-id` of the response, once headers have arrived (stream errors cite it). */
  requestId?: string | undefined;
}

/** `openai gpt-4o` — the prefix of every error message. */
export function describeCall(call: OpenAICall): string {
  return `${call.provider} ${call.modelId}`;
}

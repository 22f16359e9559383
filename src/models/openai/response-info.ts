import type { ResponseInfoV1 } from '../../spec/index.ts';

/** `modelId` is the model the provider says answered (a dated version such as gpt-4o-2024-08-06), not the one asked for. */
export function responseInfo(id: string, modelId: string, requestId: string | null | undefined, systemFingerprint?: string | null): ResponseInfoV1 {
  const info: ResponseInfoV1 = { id, modelId };
  if (typeof requestId === 'string' && requestId !== '') info.requestId = requestId;
  if (typeof systemFingerprint === 'string' && systemFingerprint !== '') info.systemFingerprint = systemFingerprint;
  return info;
}

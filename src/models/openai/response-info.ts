import type { ResponseInfoV1 } from '../../spec/index.ts';

export function responseInfo(id: string, modelId: string, requestId: string | null | undefined): ResponseInfoV1 {
  const info: ResponseInfoV1 = { id, modelId };
  if (typeof requestId === 'string' && requestId !== '') info.requestId = requestId;
  return info;
}

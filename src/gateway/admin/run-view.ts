import { KeelError } from '../../errors/index.ts';
import type { RunRecordV1 } from '../../spec/index.ts';

/** A run as the admin API shows it (docs/admin-api.md, schema `Run`). */
export function runView(run: RunRecordV1) {
  return {
    id: run.id,
    task: run.task,
    taskVersion: run.taskVersion,
    status: run.status,
    reason: run.reason,
    principal: run.principal,
    tenant: run.tenant,
    steps: run.stepCount,
    tokens: { input: run.inputTokens, output: run.outputTokens, total: run.inputTokens + run.outputTokens },
    costMicros: run.costMicros,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    stopRequested: run.stopRequested,
    ...(run.tags === undefined ? {} : { tags: run.tags }),
  };
}

/** A page's continuation: the last run read, opaque to clients (base64url of its time and id). */
export function encodeCursor(run: Pick<RunRecordV1, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([run.createdAt, run.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Pick<RunRecordV1, 'createdAt' | 'id'> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || Number.isNaN(Date.parse(value[0]))) {
    throw new KeelError('usage-invalid', 'after must be the `next` cursor of a previous page of GET /admin/runs');
  }
  return { createdAt: value[0], id: value[1] };
}

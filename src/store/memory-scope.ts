/**
 * How a memory scope is keyed in both adapters: (tenant, kind, id). The tenant leads every key and
 * every memory query, so no query can reach another tenant's memory. Shared by the SQLite and
 * PostgreSQL adapters (it has no driver dependency).
 */
import { KeelError } from '../errors/index.ts';
import type { MemoryEntryV1, MemoryReplacedV1, MemoryRoleV1, MemoryScopeV1, NewMemoryEntryV1 } from '../spec/index.ts';

export interface MemoryKey {
  tenant: string;
  kind: MemoryScopeV1['kind'];
  id: string;
}

const roles: readonly MemoryRoleV1[] = ['system', 'user', 'assistant', 'tool', 'summary', 'state'];

function required(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new KeelError('config-invalid', `memory scope needs a non-empty ${what}`);
  return value;
}

export function memoryKey(scope: MemoryScopeV1): MemoryKey {
  const tenant = required(scope.tenant, 'tenant');
  switch (scope.kind) {
    case 'session':
      return { tenant, kind: scope.kind, id: required(scope.sessionId, 'sessionId') };
    case 'long-term':
      return { tenant, kind: scope.kind, id: required(scope.principal, 'principal') };
    case 'handoff':
      return { tenant, kind: scope.kind, id: required(scope.handoffId, 'handoffId') };
    default:
      throw new KeelError('config-invalid', `unknown memory scope kind ${JSON.stringify((scope as { kind?: unknown }).kind)}`);
  }
}

export function scopeOf(key: MemoryKey): MemoryScopeV1 {
  if (key.kind === 'session') return { kind: 'session', tenant: key.tenant, sessionId: key.id };
  if (key.kind === 'long-term') return { kind: 'long-term', tenant: key.tenant, principal: key.id };
  return { kind: 'handoff', tenant: key.tenant, handoffId: key.id };
}

export function sameKey(a: MemoryKey, b: MemoryKey): boolean {
  return a.tenant === b.tenant && a.kind === b.kind && a.id === b.id;
}

/** Checks an entry before it is written; returns its scope key. */
export function checkNewEntry(entry: NewMemoryEntryV1): MemoryKey {
  const key = memoryKey(entry.scope);
  if (!roles.includes(entry.role)) throw new KeelError('config-invalid', `unknown memory role ${JSON.stringify(entry.role)}`);
  if (typeof entry.text !== 'string') throw new KeelError('config-invalid', 'memory text must be a string');
  if (typeof entry.contentHash !== 'string' || entry.contentHash === '') throw new KeelError('config-invalid', 'memory entry needs a contentHash');
  if (Number.isNaN(Date.parse(entry.createdAt))) throw new KeelError('config-invalid', `memory createdAt ${JSON.stringify(entry.createdAt)} is not a time`);
  return key;
}

/** A row as both adapters store it (timestamps as ISO text once read). */
export interface MemoryRowValues {
  seq: number;
  role: string;
  text: string;
  labels: string;
  createdAt: string;
  sourceRunId: string | null;
  sourceStep: number | null;
  contentHash: string;
  summarises: string | null;
}

export function toMemoryEntry(key: MemoryKey, row: MemoryRowValues): MemoryEntryV1 {
  return {
    scope: scopeOf(key),
    seq: row.seq,
    role: row.role as MemoryRoleV1,
    text: row.text,
    labels: JSON.parse(row.labels) as MemoryEntryV1['labels'],
    createdAt: row.createdAt,
    source: { runId: row.sourceRunId, step: row.sourceStep },
    contentHash: row.contentHash,
    summarises: row.summarises === null ? null : (JSON.parse(row.summarises) as MemoryReplacedV1[]),
  };
}

/** Normalises a limit option: undefined or non-positive means no limit (-1 in SQLite, NULL in PostgreSQL). */
export function readLimit(limit: number | undefined): number | null {
  return limit === undefined || !Number.isFinite(limit) ? null : Math.max(0, Math.floor(limit));
}

import { KeelError } from '../errors/index.ts';
import type { ContextLabels, DataClassification, DataOrigin } from './context-spec.ts';

const classifications: ReadonlySet<string> = new Set<DataClassification>(['public', 'internal', 'confidential', 'personal']);
const origins: ReadonlySet<string> = new Set<DataOrigin>(['user', 'system', 'untrusted']);
const versionOneKeys: ReadonlySet<string> = new Set(['tenant', 'classification', 'origin']);

/**
 * An item's labels as LabelsV1, checked: they drive access and information-flow decisions
 * downstream, so a misspelt one must not pass. Also reads the form context items had before
 * labels were unified (`{ tenant?, classification?, origin? }`), because journals recorded then
 * hold items in it (a retrieval step's result, say) and those runs must still resume and replay
 * to the same manifest.
 */
export function readLabels(name: string, labels: unknown): ContextLabels {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) invalid(`${name} has no labels; it needs tenants and origins (and a classification, when known)`);
  const fields = labels as Record<string, unknown>;
  if (!('tenants' in fields) && !('origins' in fields) && Object.keys(fields).every((key) => versionOneKeys.has(key))) return readVersionOne(name, fields);
  const { tenants, classification, origins: listed } = fields;
  if (!isTenantList(tenants)) invalid(`${name} needs labels.tenants, a list of tenant names (empty for none)`);
  if (!Array.isArray(listed)) invalid(`${name} needs labels.origins, a list of user, system or untrusted`);
  const read: ContextLabels = { tenants: [...tenants], origins: listed.map((origin: unknown) => originOf(name, origin)) };
  if (classification !== undefined) read.classification = classificationOf(name, classification);
  return read;
}

function readVersionOne(name: string, fields: Record<string, unknown>): ContextLabels {
  const { tenant, classification, origin } = fields;
  if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) invalid(`${name} has labels.tenant ${JSON.stringify(tenant)}; it must be a tenant name`);
  const read: ContextLabels = { tenants: tenant === undefined ? [] : [tenant], origins: origin === undefined ? [] : [originOf(name, origin)] };
  if (classification !== undefined) read.classification = classificationOf(name, classification);
  return read;
}

function isTenantList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((tenant) => typeof tenant === 'string' && tenant !== '');
}

function classificationOf(name: string, value: unknown): DataClassification {
  if (typeof value !== 'string' || !classifications.has(value)) invalid(`${name} has unknown classification ${JSON.stringify(value)}`);
  return value as DataClassification;
}

function originOf(name: string, value: unknown): DataOrigin {
  if (typeof value !== 'string' || !origins.has(value)) invalid(`${name} has unknown origin ${JSON.stringify(value)}`);
  return value as DataOrigin;
}

function invalid(message: string): never {
  throw new KeelError('config-invalid', message);
}

/**
 * The one way readers see sealed fields: `keel show`, the dashboard's run journal, dataset and
 * telemetry export, resume and replay. Each envelope becomes its plaintext while its subjects' keys
 * exist, and a `{"$redacted": {subjects, at}}` marker once any of them was destroyed. The events
 * returned are copies for display and execution: their hashes are those of the stored (sealed)
 * data, so verification always reads the store, never these.
 */
import type { JsonValue, StoreV1 } from '../spec/index.ts';
import { findEnvelopes } from './sealed-envelope.ts';
import { SubjectKeyring } from './subject-keyring.ts';

export async function openSealedFields<Event extends { data: unknown }>(events: readonly Event[], keyring: SubjectKeyring | undefined): Promise<Event[]> {
  if (keyring === undefined || !events.some((event) => findEnvelopes(event.data).length > 0)) return [...events];
  return Promise.all(events.map(async (event) => ({ ...event, data: await keyring.open(event.data as JsonValue) })));
}

/** The same for readers holding only the store. */
export function openSealedFieldsIn<Event extends { data: unknown }>(store: StoreV1, events: readonly Event[]): Promise<Event[]> {
  return openSealedFields(events, SubjectKeyring.of(store));
}

/** Opens any JSON value (a dataset item, an export row). */
export async function openSealedValue(store: StoreV1, value: JsonValue): Promise<JsonValue> {
  const keyring = SubjectKeyring.of(store);
  return keyring === undefined ? value : keyring.open(value);
}

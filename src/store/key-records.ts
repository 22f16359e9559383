import { KeelError } from '../errors/index.ts';
import type { KeySettingsV1 } from '../spec/index.ts';

/** A key's settings as they were stored; a row that does not parse is a damaged database, said so. */
export function parseKeySettings(keyId: string, text: unknown): KeySettingsV1 {
  const value: unknown = typeof text === 'string' ? JSON.parse(text) : text;
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { models?: unknown }).models)) {
    throw new KeelError('journal-invalid', `key ${keyId} has unreadable settings in the store`);
  }
  return value as KeySettingsV1;
}

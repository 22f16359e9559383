import { canonicalJson, sha256 } from '../journal/index.ts';
import type { KeelConfig } from './config-schema.ts';

/**
 * The identity of a configuration, stored with a run so it can say which config it ran under.
 * Canonical JSON makes it independent of key order and formatting in the file.
 */
export function configHash(config: KeelConfig): string {
  return sha256(canonicalJson(config));
}

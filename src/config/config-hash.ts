import { canonicalJson, sha256 } from '../journal/index.ts';
import type { KeelConfig } from './config-schema.ts';

/**
 * The identity of a configuration, stored with a run so it can say which config it ran under.
 * Canonical JSON makes it independent of key order and formatting in the file.
 */
export function configHash(config: KeelConfig): string {
  // Where the audit keys live changes how runs are recorded, not what they do: a run started
  // before a key was configured still resumes under the same identity.
  // Monitors and scheduled drills watch runs from outside; they change nothing a run does either,
  // and nor does how long ended runs are kept, or how long the gateway waits on a slow client.
  const { audit: _audit, monitors: _monitors, drills: _drills, retention: _retention, gateway: _gateway, ...governing } = config;
  return sha256(canonicalJson(governing));
}

/**
 * Where the audit keys come from: the config file's `audit` section, else the environment
 * (KEEL_AUDIT_SIGNING_KEY_FILE, KEEL_AUDIT_PUBLIC_KEY_FILE). Keys are files, never database rows.
 */
import { KeelError } from '../errors/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { AuditLog } from './audit-log.ts';
import type { VerifyingKey } from './tree-head.ts';
import { loadSigningKey, loadVerifyingKey } from './tree-head.ts';

export interface AuditSettings {
  signingKeyFile?: string;
  publicKeyFile?: string;
  anchorIntervalSeconds?: number;
}

type Environment = Record<string, string | undefined>;

const defaultAnchorIntervalSeconds = 60;

function setting(configured: string | undefined, environment: Environment, variable: string): string | undefined {
  if (configured !== undefined) return configured;
  const value = environment[variable];
  return value === undefined || value === '' ? undefined : value;
}

export interface OpenedAuditLog {
  log: AuditLog;
  /** How often a long-lived process (keel worker) anchors every run. */
  anchorIntervalMs: number;
}

/** The anchoring log when a signing key is configured; undefined otherwise. A bad key file stops the process at start. */
export function openAuditLog(store: StoreV1, settings: AuditSettings | undefined, environment: Environment): OpenedAuditLog | undefined {
  const keyFile = setting(settings?.signingKeyFile, environment, 'KEEL_AUDIT_SIGNING_KEY_FILE');
  if (keyFile === undefined) return undefined;
  const signingKey = loadSigningKey(keyFile);
  if (store.auditLog === undefined) throw new KeelError('config-invalid', `an audit signing key is configured, but the store at ${store.location} keeps no audit log`);
  return { log: new AuditLog({ log: store.auditLog, signingKey }), anchorIntervalMs: (settings?.anchorIntervalSeconds ?? defaultAnchorIntervalSeconds) * 1000 };
}

/** The public key a verifier checks tree heads with: the given path, else the config's, else the environment's. */
export function openVerifyingKey(path: string | undefined, settings: AuditSettings | undefined, environment: Environment): VerifyingKey | undefined {
  const file = path ?? setting(settings?.publicKeyFile, environment, 'KEEL_AUDIT_PUBLIC_KEY_FILE');
  return file === undefined ? undefined : loadVerifyingKey(file);
}

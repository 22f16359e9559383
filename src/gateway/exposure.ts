import { isIPv4 } from 'node:net';
import { KeelError } from '../errors/index.ts';
import type { KeyStoreV1 } from '../spec/index.ts';

export interface ExposureOptions {
  host: string;
  /** The store's keys, if it keeps any. */
  keys: KeyStoreV1 | undefined;
  requireKeys: boolean;
  /** Serve other machines without keys, on purpose. */
  allowAnonymous: boolean;
}

/**
 * A gateway other machines can reach must not answer anyone by accident: on any host but a
 * loopback address it starts only when keys are required (the store holds one, or
 * `--require-keys`), or when anonymous access is asked for by name (`--allow-anonymous`).
 */
export async function checkExposure(options: ExposureOptions): Promise<void> {
  if (isLoopback(options.host) || options.requireKeys || options.allowAnonymous) return;
  if (options.keys !== undefined && (await options.keys.hasKeys())) return;
  throw new KeelError(
    'usage-invalid',
    `keel serve on ${options.host} would answer other machines without keys: create one with keel keys create (or pass --require-keys), or pass --allow-anonymous to serve anyone`,
  );
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.'));
}

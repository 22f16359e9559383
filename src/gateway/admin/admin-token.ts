import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeelError } from '../../errors/index.ts';

/** Shorter tokens are refused at start: the admin API can approve refunds and mint keys. */
export const minimumAdminTokenLength = 16;

/** Checks an admin token's shape at start; throws `usage-invalid` naming the problem. */
export function checkAdminToken(token: string, source: string): string {
  const trimmed = token.trim();
  if (trimmed.length < minimumAdminTokenLength) {
    throw new KeelError('usage-invalid', `the admin token from ${source} is ${trimmed.length} characters long; it must be at least ${minimumAdminTokenLength} (generate one with: openssl rand -hex 32)`);
  }
  if (/\s/.test(trimmed)) throw new KeelError('usage-invalid', `the admin token from ${source} contains whitespace; it is sent as a bearer token, which cannot hold any`);
  return trimmed;
}

/**
 * The admin token `keel serve` is given: KEEL_ADMIN_TOKEN, or the file KEEL_ADMIN_TOKEN_FILE
 * names (for a secret mounted as a file); undefined when neither is set (the admin API is off).
 */
export function adminTokenFromEnvironment(environment: Record<string, string | undefined>): string | undefined {
  const token = environment.KEEL_ADMIN_TOKEN;
  const file = environment.KEEL_ADMIN_TOKEN_FILE;
  if (token !== undefined && token !== '' && file !== undefined && file !== '') throw new KeelError('usage-invalid', 'set KEEL_ADMIN_TOKEN or KEEL_ADMIN_TOKEN_FILE, not both');
  if (token !== undefined && token !== '') return checkAdminToken(token, 'KEEL_ADMIN_TOKEN');
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KeelError('usage-invalid', `cannot read the admin token file ${file} (KEEL_ADMIN_TOKEN_FILE): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return checkAdminToken(text, `${file} (KEEL_ADMIN_TOKEN_FILE)`);
}

/**
 * Whether a request's `Authorization: Bearer …` carries the admin token. Both sides are hashed
 * first, so the comparison is constant-time whatever length the caller sent.
 */
export function presentsAdminToken(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

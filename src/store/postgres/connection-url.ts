import { KeelError } from '../../errors/index.ts';

/** A checked PostgreSQL connection URL, with the parts Keel prints (never the password). */
export interface ConnectionTarget {
  url: string;
  /** `host:port/database`, for error messages. */
  address: string;
  /** The URL without its password, safe to log. */
  redactedUrl: string;
  /** Set when `sslmode` was pinned to verify-full (see pinSslMode): said when a certificate check fails. */
  sslNote?: string;
}

// Query parameters libpq and pg accept that carry secrets; they must not reach a log line.
const secretParameters = ['password', 'sslpassword', 'sslkey'];

export function parseConnectionUrl(url: string): ConnectionTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeelError('db-url-invalid', `not a PostgreSQL URL: ${describeUnparsable(url)} (expected postgres://user@host:5432/database)`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new KeelError('db-url-invalid', `not a PostgreSQL URL: scheme ${parsed.protocol} (expected postgres:// or postgresql://)`);
  }
  const host = parsed.hostname || parsed.searchParams.get('host');
  if (!host) throw new KeelError('db-url-invalid', 'PostgreSQL URL has no host (expected postgres://user@host:5432/database)');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres';
  const redacted = new URL(parsed.href);
  redacted.password = '';
  for (const name of secretParameters) redacted.searchParams.delete(name);
  const target: ConnectionTarget = { url, address: `${host}:${parsed.port || '5432'}/${database}`, redactedUrl: redacted.href };
  return pinSslMode(target, parsed);
}

// The modes pg 8 treats as verify-full while printing a multi-line deprecation warning (from
// pg-connection-string) on the first connection of the process, ahead of anything Keel says.
const aliasedSslModes = new Set(['prefer', 'require', 'verify-ca']);

/**
 * Passes pg `sslmode=verify-full` where the URL says prefer, require or verify-ca without
 * `uselibpqcompat=true`: exactly what pg does with those today (the certificate and host name are
 * verified), said in the URL so pg has nothing to warn about, and kept when a later pg gives those
 * modes libpq's weaker meaning. `uselibpqcompat=true` in the URL asks for libpq's meaning, and pg
 * then gets the URL as written.
 */
function pinSslMode(target: ConnectionTarget, parsed: URL): ConnectionTarget {
  const mode = parsed.searchParams.get('sslmode');
  if (mode === null || !aliasedSslModes.has(mode) || parsed.searchParams.has('uselibpqcompat')) return target;
  const url = target.url.replace(/([?&]sslmode=)(prefer|require|verify-ca)(?=[&#]|$)/, '$1verify-full');
  return {
    ...target,
    url,
    sslNote: `Keel verifies the server's certificate for sslmode=${mode}, as pg does: name its CA with sslrootcert=PATH, or add uselibpqcompat=true for libpq's meaning of sslmode`,
  };
}

// The input may itself contain a password, so show only its shape.
function describeUnparsable(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
  return scheme === undefined ? 'no scheme' : `cannot parse the ${scheme}// URL`;
}

import { KeelError } from '../../errors/index.ts';

/** A checked PostgreSQL connection URL, with the parts Keel prints (never the password). */
export interface ConnectionTarget {
  url: string;
  /** `host:port/database`, for error messages. */
  address: string;
  /** The URL without its password, safe to log. */
  redactedUrl: string;
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
  return { url, address: `${host}:${parsed.port || '5432'}/${database}`, redactedUrl: redacted.href };
}

// The input may itself contain a password, so show only its shape.
function describeUnparsable(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
  return scheme === undefined ? 'no scheme' : `cannot parse the ${scheme}// URL`;
}

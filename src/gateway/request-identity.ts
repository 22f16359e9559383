import type { ApiKeyRecordV1 } from '../spec/index.ts';
import { invalidRequest } from './gateway-failure.ts';
import { requestMetadata } from './request-metadata.ts';

/** Who a request acts for (the run's principal and tenant, the key that vouched for them) and which run it belongs to. */
export interface RequestIdentity {
  principal: string;
  tenant: string;
  /** Absent when keys are not required and the request came without one (local development). */
  key?: ApiKeyRecordV1;
  /** The request's `keel-run-id`: `new` opens a run that takes further calls; a run's id joins it. */
  run?: string;
  /** The W3C `traceparent` the client sent, when well formed. */
  traceparent?: string;
  /**
   * What the request says about itself for attribution (project, feature, team): the body's
   * metadata with the `keel-metadata` header's entries over it (request-metadata.ts). Journaled on
   * its request-receive; the tags of the run it opens.
   */
  metadata?: Record<string, string>;
}

export const runHeader = 'keel-run-id';
const runPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
export const principalHeader = 'keel-principal';
export const tenantHeader = 'keel-tenant';

// Names, e-mail addresses and service ids; nothing that could break a log line or a policy id.
export const identityPattern = /^[A-Za-z0-9][A-Za-z0-9._@:+/-]{0,199}$/;

// Identities the key check (key-auth.ts) established, by the request's headers: every route reads
// its identity here, so none can skip the key a request was authenticated with.
const authenticated = new WeakMap<Headers, RequestIdentity>();

export function setAuthenticatedIdentity(headers: Headers, identity: RequestIdentity): void {
  authenticated.set(headers, identity);
}

/**
 * The key's identity when the request was authenticated with one; otherwise the identity in the
 * request's headers, with the same defaults as `keel run` (anonymous, default). `bodyMetadata`: the
 * body's metadata, already checked by the request's parser.
 */
export function requestIdentity(headers: Headers, bodyMetadata?: Record<string, string>): RequestIdentity {
  const identity = authenticated.get(headers) ?? { principal: read(headers, principalHeader, 'anonymous'), tenant: read(headers, tenantHeader, 'default') };
  const run = headers.get(runHeader);
  if (run !== null && !runPattern.test(run)) throw invalidRequest(`header ${runHeader} must be new or a run's id (letters, digits, . _ : -); got ${JSON.stringify(run.slice(0, 40))}`, runHeader, 'invalid_header');
  const traceparent = headers.get('traceparent');
  const metadata = requestMetadata(headers, bodyMetadata);
  return {
    ...identity,
    ...(run === null ? {} : { run }),
    // A malformed traceparent is dropped, as W3C Trace Context asks, rather than refused.
    ...(traceparent !== null && traceparentPattern.test(traceparent) ? { traceparent } : {}),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function read(headers: Headers, name: string, fallback: string): string {
  const value = headers.get(name);
  if (value === null) return fallback;
  if (!identityPattern.test(value)) {
    throw invalidRequest(`header ${name} must be 1 to 200 letters, digits or . _ @ : + / - (starting with a letter or digit); got ${JSON.stringify(value.slice(0, 40))}`, name, 'invalid_header');
  }
  return value;
}

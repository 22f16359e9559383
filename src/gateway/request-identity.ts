import { invalidRequest } from './gateway-failure.ts';

/** Who a request acts for, until virtual keys carry it: the run's principal and tenant. */
export interface RequestIdentity {
  principal: string;
  tenant: string;
}

export const principalHeader = 'keel-principal';
export const tenantHeader = 'keel-tenant';

// Names, e-mail addresses and service ids; nothing that could break a log line or a policy id.
const identityPattern = /^[A-Za-z0-9][A-Za-z0-9._@:+/-]{0,199}$/;

/** The identity in the request's headers, with the same defaults as `keel run` (anonymous, default). */
export function requestIdentity(headers: Headers): RequestIdentity {
  return { principal: read(headers, principalHeader, 'anonymous'), tenant: read(headers, tenantHeader, 'default') };
}

function read(headers: Headers, name: string, fallback: string): string {
  const value = headers.get(name);
  if (value === null) return fallback;
  if (!identityPattern.test(value)) {
    throw invalidRequest(`header ${name} must be 1 to 200 letters, digits or . _ @ : + / - (starting with a letter or digit); got ${JSON.stringify(value.slice(0, 40))}`, name, 'invalid_header');
  }
  return value;
}

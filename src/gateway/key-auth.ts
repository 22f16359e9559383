import type { KeyStoreV1 } from '../spec/index.ts';
import { GatewayRequestError } from './gateway-failure.ts';
import { setAuthenticatedIdentity } from './request-identity.ts';
import { hashKeySecret, keyExpired } from './virtual-keys.ts';

/**
 * Virtual keys at the door. Keys are required once the store holds any key (revoked ones count:
 * keys are never deleted, so this cannot switch back off), or from the start when the gateway is
 * told so (`requireKeys`). Until then requests keep the `keel-principal` / `keel-tenant` identity
 * of local development. A key is looked up on every request, by the hash of what was sent, so a
 * key revoked by `keel keys revoke` in another process is refused at its next request, and an
 * expired key from its expiry on.
 */
export class KeyAuthentication {
  readonly #keys: KeyStoreV1 | undefined;
  #required: boolean;

  constructor(keys: KeyStoreV1 | undefined, requireKeys: boolean) {
    this.#keys = keys;
    this.#required = requireKeys;
  }

  async required(): Promise<boolean> {
    if (!this.#required && this.#keys !== undefined) this.#required = await this.#keys.hasKeys();
    return this.#required;
  }

  /** Establishes the request's identity from its key, or throws the 401 to answer; before the body is read. */
  async authenticate(headers: Headers): Promise<void> {
    if (!(await this.required())) return;
    const secret = presentedSecret(headers);
    if (secret === undefined) throw unauthenticated('this gateway requires a Keel key: send it as Authorization: Bearer <key> or x-api-key: <key> (create one with keel keys create)');
    const key = await this.#keys?.findKeyBySecretHash(hashKeySecret(secret));
    if (key === undefined) throw unauthenticated('the key is not a Keel key of this gateway');
    if (key.revokedAt !== null) throw unauthenticated(`key ${key.keyId} was revoked at ${key.revokedAt}`);
    if (keyExpired(key.settings)) throw unauthenticated(`key ${key.keyId} expired at ${key.settings.expiresAt ?? ''}`);
    setAuthenticatedIdentity(headers, { principal: key.principal, tenant: key.tenant, key });
  }
}

/** `Authorization: Bearer <key>` (OpenAI's clients) or `x-api-key: <key>` (Anthropic's). */
function presentedSecret(headers: Headers): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '')?.[1];
  const apiKey = headers.get('x-api-key')?.trim();
  return bearer ?? (apiKey === undefined || apiKey === '' ? undefined : apiKey);
}

function unauthenticated(message: string): GatewayRequestError {
  return new GatewayRequestError({ kind: 'authentication', message, code: 'invalid_api_key' });
}

// The admin API, with the token the user signed in with (kept for this browser tab only).

const tokenKey = 'keel.dashboard.token';
const nameKey = 'keel.dashboard.name';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(tokenKey);
  },
  /** Who decides: recorded in the journal with every approval, denial and stop. */
  get name() {
    return sessionStorage.getItem(nameKey) ?? '';
  },
  signIn(token, name) {
    sessionStorage.setItem(tokenKey, token);
    sessionStorage.setItem(nameKey, name);
  },
  signOut() {
    sessionStorage.removeItem(tokenKey);
    sessionStorage.removeItem(nameKey);
  },
};

/** Calls `/admin<path>`; resolves to the JSON answer, or throws an ApiError with the API's code and message. */
export async function api(path, { method = 'GET', body, token = session.token } = {}) {
  const url = new URL(`../admin${path}`, document.baseURI);
  const headers = { authorization: `Bearer ${token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'network', `the gateway did not answer (${error.message})`);
  }
  const payload = await response.json().catch(() => null);
  if (response.ok) return payload;
  const failure = payload?.error ?? {};
  throw new ApiError(response.status, failure.code ?? `http-${response.status}`, failure.message ?? `HTTP ${response.status}`);
}

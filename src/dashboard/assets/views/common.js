import { session } from '../api.js';
import { notice } from '../dom.js';

/**
 * What a page shows when a call fails: a refused token signs the user out (back to the login
 * page); anything else is said in one line, with the API's own message.
 */
export function failure(error) {
  if (error?.status === 401) {
    session.signOut();
    location.hash = '#/login';
    return notice('error', 'The admin token was refused; sign in again.');
  }
  return notice('error', error?.message ?? String(error));
}

/**
 * Calls `check` every `ms` until it returns false or the returned function is called. The next
 * call is scheduled when the previous one has answered, so a slow gateway is never asked twice at once.
 */
export function poll(check, ms) {
  let stopped = false;
  let timer;
  const tick = async () => {
    let again;
    try {
      again = await check();
    } catch {
      again = true;
    }
    if (again && !stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

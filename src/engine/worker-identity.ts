import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** `host/pid/nonce`: unique per engine instance, and says which local process holds a lease. */
export function newWorkerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/**
 * True when the lease owner is a process on this machine that no longer exists. Its lease can be
 * broken at once instead of waiting for it to expire; owners on other machines are never judged.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split('/');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

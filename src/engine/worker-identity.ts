import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A worker id unique to one engine in one process start: 64 random bits make it so. The host and
 * pid in front only tell an operator where to look; nothing reads them back, and nothing judges a
 * worker alive or dead from them (two containers may share a hostname and a pid). Liveness is the
 * lease's expiry on the store's clock, sped up only by this machine's registry of live workers
 * (local-worker-registry.ts).
 */
export function newWorkerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(8).toString('hex')}`;
}

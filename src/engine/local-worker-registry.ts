import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, unlinkSync, utimes } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * This machine's live workers, keyed by their unique ids, so that a process here can tell at once
 * that a worker which held leases here has died, instead of waiting for its leases to expire.
 *
 * Each registered worker listens on a Unix socket named after its id. The kernel closes the socket
 * when the process ends, however it ends (SIGKILL included), so a connection refused on a socket
 * file that exists proves its worker is gone; a pid could have been reused and proves nothing. A
 * worker that is not registered here (another machine, another user, a registry that could not be
 * written) is never judged dead: its leases are taken over only when they expire on the store's
 * clock. The registry can therefore only make a takeover sooner, never unsafe.
 *
 * The directory is per user (mode 0700, so nobody else can plant a dead-looking entry) and per
 * boot of the kernel, so a temporary folder shared by several machines never mixes their workers.
 * A live worker touches its entry hourly; entries of workers dead for over a day (whose leases
 * have long expired, unless leases last a day) are removed when a worker registers.
 */
export class LocalWorkerRegistry {
  readonly directory: string;

  constructor(directory: string = defaultRegistryDirectory()) {
    this.directory = directory;
  }

  /**
   * Registers a worker for the life of this process. Returns undefined when it cannot (the folder
   * is not ours or not writable, the socket path is too long, the id is live elsewhere here): the
   * worker then works unregistered, and its leases are taken over on expiry only.
   */
  async register(workerId: string, holdsLeases: () => boolean): Promise<LocalRegistration | undefined> {
    const path = this.entryPath(workerId);
    if (path === undefined || !this.#ensureDirectory()) return undefined;
    const server = createServer((socket) => socket.destroy());
    server.on('error', () => undefined);
    let listening = await listen(server, path);
    if (!listening && (await probe(path)) === 'dead') {
      // A dead process registered this id before (ids given by hand can repeat): its entry is stale.
      removeQuietly(path);
      listening = await listen(server, path);
    }
    if (!listening) return undefined;
    server.unref();
    const registration = new LocalRegistration(server, path, holdsLeases);
    liveRegistrations.add(registration);
    await this.#sweepOnce();
    return registration;
  }

  /** True only when the worker registered on this machine and its process has ended. */
  async isDead(workerId: string): Promise<boolean> {
    const path = this.entryPath(workerId);
    return path !== undefined && this.#trusted() && (await probe(path)) === 'dead';
  }

  /** Removes a dead worker's entry once nothing needs to recognise it any more. */
  forget(workerId: string): void {
    const path = this.entryPath(workerId);
    if (path !== undefined) removeQuietly(path);
  }

  /** Once per process and folder: removes entries of workers dead for over a day. */
  async #sweepOnce(): Promise<void> {
    if (sweptDirectories.has(this.directory)) return;
    sweptDirectories.add(this.directory);
    for (const name of await readdir(this.directory).catch(() => [])) {
      if (!name.endsWith('.sock')) continue;
      const path = join(this.directory, name);
      const modified = (await stat(path).catch(() => undefined))?.mtimeMs;
      if (modified !== undefined && Date.now() - modified > staleEntryMs && (await probe(path)) === 'dead') removeQuietly(path);
    }
  }

  /** Where a worker's entry lives; undefined when the path would be too long for a socket. */
  entryPath(workerId: string): string | undefined {
    const path = join(this.directory, `${createHash('sha256').update(workerId).digest('hex').slice(0, 32)}.sock`);
    // Unix socket paths are limited to about 104 bytes (macOS) or 108 (Linux).
    return Buffer.byteLength(path) <= 100 ? path : undefined;
  }

  #ensureDirectory(): boolean {
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    } catch {
      return false;
    }
    return this.#trusted();
  }

  /** The folder and its parent must be this user's alone: only then is an entry there a worker's. */
  #trusted(): boolean {
    try {
      return [this.directory, dirname(this.directory)].every((folder) => {
        const stat = lstatSync(folder);
        const ownUser = process.getuid?.();
        return stat.isDirectory() && (ownUser === undefined || stat.uid === ownUser) && (stat.mode & 0o077) === 0;
      });
    } catch {
      return false;
    }
  }
}

/** A worker's entry in the registry, for as long as its process lives. */
export class LocalRegistration {
  readonly path: string;
  readonly #server: Server;
  readonly #holdsLeases: () => boolean;
  readonly #touch: NodeJS.Timeout;

  constructor(server: Server, path: string, holdsLeases: () => boolean) {
    this.#server = server;
    this.path = path;
    this.#holdsLeases = holdsLeases;
    // The entry's time says when its worker was last alive, so a sweep never takes a fresh one.
    this.#touch = setInterval(() => {
      const now = new Date();
      utimes(path, now, now, () => undefined);
    }, touchEveryMs);
    this.#touch.unref();
  }

  /**
   * At exit, an entry whose worker holds no lease is removed: nobody will need to recognise it.
   * One that still holds leases stays, so the next process here takes them over at once. (A
   * process that ends because nothing is left to do loses every entry: Node closes the listening
   * socket, which removes it; its leases are then taken over when they expire.)
   */
  removeIfIdle(): void {
    if (this.#holdsLeases()) return;
    liveRegistrations.delete(this);
    clearInterval(this.#touch);
    this.#server.close();
    removeQuietly(this.path);
  }
}

const touchEveryMs = 60 * 60 * 1_000;
const staleEntryMs = 24 * 60 * 60 * 1_000;
const sweptDirectories = new Set<string>();
const liveRegistrations = new Set<LocalRegistration>();
process.on('exit', () => {
  for (const registration of liveRegistrations) registration.removeIfIdle();
});

/** `<tmp>/keel-workers-<uid>/<boot>`: per user, and per boot of this machine's kernel. */
export function defaultRegistryDirectory(): string {
  const user = process.getuid?.() ?? 'user';
  return join(tmpdir(), `keel-workers-${user}`, createHash('sha256').update(machineBoot()).digest('hex').slice(0, 12));
}

/** Linux names each boot of the kernel; elsewhere the hostname stands in for the machine. */
function machineBoot(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return hostname();
  }
}

function listen(server: Server, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => {
      server.off('listening', onListening);
      resolve(false);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(path);
  });
}

/**
 * `dead`: the socket file exists and nobody listens on it. `alive`: a process accepted the
 * connection. `unknown`: no such entry, or an answer that proves nothing (never treated as dead).
 */
function probe(path: string): Promise<'alive' | 'dead' | 'unknown'> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const settle = (verdict: 'alive' | 'dead' | 'unknown') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    // A live process's kernel answers a local connection at once, even when its event loop is busy.
    const timer = setTimeout(() => settle('unknown'), 1_000);
    timer.unref();
    socket.once('connect', () => settle('alive'));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ECONNREFUSED' ? 'dead' : 'unknown'));
  });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

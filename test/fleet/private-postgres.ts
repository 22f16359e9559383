/**
 * A PostgreSQL cluster of the drill's own, in a temporary folder on a free port, so it can be
 * restarted under the workers without touching the shared server other tests use. initdb refuses
 * to run as root, so as root the cluster belongs to the `postgres` user (runuser).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const installations = '/usr/lib/postgresql';

/** The newest server binaries installed, or why there are none. */
export function findPostgresBinaries(): { bin: string } | { skipReason: string } {
  if (!existsSync(installations)) return { skipReason: `no PostgreSQL server binaries under ${installations}` };
  const versions = readdirSync(installations)
    .filter((name) => existsSync(join(installations, name, 'bin', 'pg_ctl')))
    .sort((left, right) => Number(right) - Number(left));
  const newest = versions[0];
  return newest === undefined ? { skipReason: `no pg_ctl under ${installations}/*/bin` } : { bin: join(installations, newest, 'bin') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class PrivatePostgres {
  readonly url: string;
  readonly #bin: string;
  readonly #folder: string;
  readonly #asPostgres: boolean;

  private constructor(bin: string, folder: string, port: number, asPostgres: boolean) {
    this.#bin = bin;
    this.#folder = folder;
    this.#asPostgres = asPostgres;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** initdb into a fresh folder and start the server; resolves once it accepts connections. */
  static async start(bin: string): Promise<PrivatePostgres> {
    const folder = mkdtempSync(join(tmpdir(), 'keel-fleet-pg-'));
    const asPostgres = userInfo().uid === 0;
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: group } = await run('id', ['-g', 'postgres']);
      chownSync(folder, Number(stdout.trim()), Number(group.trim()));
    }
    const port = await freePort();
    const cluster = new PrivatePostgres(bin, folder, port, asPostgres);
    try {
      await cluster.#run('initdb', ['-D', cluster.#data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
      // fsync off: the drill restarts the server, it does not crash the machine; commits still
      // reach the WAL (the OS's cache) before they are acknowledged.
      const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      await cluster.#run('pg_ctl', ['-D', cluster.#data, '-o', options, '-l', join(folder, 'server.log'), '-w', '-t', '60', 'start']);
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
    return cluster;
  }

  get #data(): string {
    return join(this.#folder, 'data');
  }

  /** Stops the server (`fast`: connections are terminated, in-flight transactions roll back) and starts it again. */
  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    // The log file again: without one the server would write to this process's pipe and hold it open.
    await this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-l', join(this.#folder, 'server.log'), '-w', '-t', '60', 'restart']);
  }

  async stop(): Promise<void> {
    try {
      await this.#run('pg_ctl', ['-D', this.#data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
    } finally {
      rmSync(this.#folder, { recursive: true, force: true });
    }
  }

  async #run(program: string, args: string[]): Promise<void> {
    const path = join(this.#bin, program);
    // Inside the temporary folder: the postgres user may not be able to read the caller's working directory.
    if (this.#asPostgres) await run('runuser', ['-u', 'postgres', '--', path, ...args], { cwd: this.#folder });
    else await run(path, args, { cwd: this.#folder });
  }
}

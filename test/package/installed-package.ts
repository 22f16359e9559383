/**
 * Keel as its users get it: the packed tarball installed in an empty project, scripts and the
 * `keel` bin run there on a chosen Node, with no TypeScript toolchain and none of this repo's
 * configuration in reach. Dependencies come from the npm registry (a warm cache makes it quick).
 *
 * `packKeel()` builds and packs once per process and writes dist/ in the repo, so put every
 * package case in one test file rather than several that would build at the same time.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';

export const repositoryRoot = join(import.meta.dirname, '..', '..');

/** The Node versions the package is tested on: the bundled 24 (devDependency `node`) and 22.18+ (`node22`). */
export const nodeBinaries = {
  node24: join(repositoryRoot, 'node_modules', 'node', 'bin', 'node'),
  node22: join(repositoryRoot, 'node_modules', 'node22', 'bin', 'node'),
} as const;

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Working directory; default the installed project. */
  cwd?: string;
  /** Added to an environment cleaned of npm's lifecycle variables. */
  environment?: Record<string, string>;
}

/** Runs a command to its end; never rejects on a non-zero exit (callers assert on it). */
export function runCommand(command: string, args: readonly string[], options: { cwd: string; environment?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.environment ?? cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The caller's environment without npm's `npm_*` lifecycle variables, which would otherwise steer a
 * nested npm (prefix, scripts) and do not exist in a user's shell.
 */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.toLowerCase().startsWith('npm_')) environment[name] = value;
  return { ...environment, ...extra };
}

/** PATH with `node` resolving to the given binary first, as if it were the Node the user installed. */
export function pathWithNode(node: string, environment: NodeJS.ProcessEnv = process.env): string {
  return [dirname(node), environment.PATH ?? ''].join(delimiter);
}

async function succeed(command: string, args: readonly string[], cwd: string, environment?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const result = await runCommand(command, args, environment === undefined ? { cwd } : { cwd, environment });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code} in ${cwd}\n${result.stdout}\n${result.stderr}`);
  return result;
}

export interface PackedKeel {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Every path in the tarball, relative to the package root. */
  files: string[];
}

let packed: Promise<PackedKeel> | undefined;

/** Runs `npm pack` on the repository (its `prepack` builds dist/), once per process. */
export function packKeel(): Promise<PackedKeel> {
  packed ??= (async () => {
    const destination = mkdtempSync(join(tmpdir(), 'keel-pack-'));
    // Shared by every case in the process, so it goes when the process does.
    process.once('exit', () => rmSync(destination, { recursive: true, force: true }));
    // npm runs on the Node 24 first on PATH. The build's own lines come first on stdout; the
    // report is the JSON array that starts a line.
    const environment = cleanEnvironment({ PATH: pathWithNode(nodeBinaries.node24) });
    const result = await succeed('npm', ['pack', '--json', '--foreground-scripts', '--pack-destination', destination], repositoryRoot, environment);
    const report = JSON.parse(result.stdout.slice(result.stdout.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    const entry = report[0];
    if (entry === undefined) throw new Error(`npm pack printed no package: ${result.stdout}`);
    return { tarball: join(destination, basename(entry.filename)), files: entry.files.map((file) => file.path) };
  })();
  return packed;
}

export interface InstalledPackage {
  /** The consumer project's root. */
  readonly directory: string;
  /** Copies `script` into the project and runs it there with `node` (a path to a Node binary). */
  runScript(script: string, node: string, args?: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Runs an installed bin (`keel`) the way a shell does: through its shebang, with `node` first on PATH. */
  runBin(name: string, node: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Runs `npx NAME ARGS` in the project with `node` first on PATH. */
  runNpx(name: string, node: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  remove(): void;
}

/**
 * Creates an empty ESM project in a temporary folder and installs the tarball there, plus any
 * `dependencies` (npm specs such as `zod@^4`).
 */
export async function installPackage(tarball: string, dependencies: readonly string[] = []): Promise<InstalledPackage> {
  const directory = mkdtempSync(join(tmpdir(), 'keel-consumer-'));
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify({ name: 'keel-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  const installEnvironment = cleanEnvironment({ PATH: pathWithNode(nodeBinaries.node24) });
  await succeed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...dependencies], directory, installEnvironment);

  let copies = 0;
  const environmentFor = (node: string, options: RunOptions | undefined): NodeJS.ProcessEnv => cleanEnvironment({ ...options?.environment, PATH: pathWithNode(node) });
  return {
    directory,
    async runScript(script, node, args = [], options) {
      // Named by its folder too: two examples are both refund-agent.ts, and tests run them in parallel.
      const copy = join(directory, `${basename(dirname(script))}-${basename(script)}`);
      // Copied aside and renamed over, so a run of the same script in parallel never reads half a file.
      const staged = `${copy}.${process.pid}.${(copies += 1)}`;
      copyFileSync(script, staged);
      renameSync(staged, copy);
      return runCommand(node, [copy, ...args], { cwd: options?.cwd ?? directory, environment: environmentFor(node, options) });
    },
    async runBin(name, node, args, options) {
      return runCommand(join(directory, 'node_modules', '.bin', name), args, { cwd: options?.cwd ?? directory, environment: environmentFor(node, options) });
    },
    async runNpx(name, node, args, options) {
      return runCommand('npx', ['--no-install', name, ...args], { cwd: options?.cwd ?? directory, environment: environmentFor(node, options) });
    },
    remove() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A Node on PATH older than 22.18 (the image's 20), to check the installed bin refuses it clearly. */
export async function findUnsupportedNode(): Promise<string | undefined> {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder === '' || folder.startsWith(repositoryRoot)) continue;
    if (!readdirSafe(folder).includes('node')) continue;
    const candidate = join(folder, 'node');
    const version = await runCommand(candidate, ['--version'], { cwd: repositoryRoot }).catch(() => undefined);
    const match = /^v(\d+)\.(\d+)\./.exec(version?.stdout ?? '');
    if (match === null) continue;
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < 22 || (major === 22 && minor < 18)) return candidate;
  }
  return undefined;
}

function readdirSafe(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

/**
 * CLI start-up: the wall time of each read command (`--help`, `runs`, `show`, `escalations`,
 * `audit verify`) over a bare `node -e 0`, measured side by side in one loop. Two shapes: what a
 * user runs (the installed package: bin/keel.js over compiled JavaScript) and a clone of the
 * repository (bin/keel.js over the TypeScript sources, through its resolve hook).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';

const repositoryRoot = join(import.meta.dirname, '..');
const moduleRecorder = join(repositoryRoot, 'test', 'cli-hygiene', 'record-modules.ts');

/**
 * The installed shape without the registry: the compiled JavaScript (tsc, no type check) and
 * bin/keel.js laid out as in the package, inside the repository's gitignored tmp/ so its imports
 * resolve to the same node_modules an install would have.
 */
function buildInstalledShape(): string {
  const packageRoot = join(repositoryRoot, 'tmp', 'bench-package');
  rmSync(packageRoot, { recursive: true, force: true });
  mkdirSync(join(packageRoot, 'bin'), { recursive: true });
  const tsc = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(repositoryRoot, 'tsconfig.build.json'), '--noCheck', '--declaration', 'false', '--outDir', join(packageRoot, 'dist')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`cannot compile the installed shape: ${built.stdout}${built.stderr}`);
  copyFileSync(join(repositoryRoot, 'bin', 'keel.js'), join(packageRoot, 'bin', 'keel.js'));
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(packageRoot, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, type: manifest.type, exports: manifest.exports }));
  return join(packageRoot, 'bin', 'keel.js');
}

function wallMs(args: string[], cwd: string): number {
  const began = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = performance.now() - began;
  if (result.status !== 0 && !args.includes('-e')) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** Module files a command loads (every URL the module loader sees, node: builtins excluded). */
export function modulesLoaded(bin: string, command: string[], cwd: string): string[] {
  const output = join(cwd, `modules-${process.pid}.txt`);
  const result = spawnSync(process.execPath, ['--import', moduleRecorder, bin, ...command], { cwd, stdio: 'ignore', env: { ...process.env, KEEL_RECORD_MODULES: output } });
  if (result.status !== 0) throw new Error(`keel ${command.join(' ')} exited ${result.status}`);
  const urls = readFileSync(output, 'utf8').split('\n').filter((line) => line.startsWith('file:'));
  rmSync(output, { force: true });
  return urls;
}

export async function benchCliStart(rounds = 21): Promise<Measure[]> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-cli-'));
  const database = join(folder, 'keel.db');
  const clone = join(repositoryRoot, 'bin', 'keel.js');
  // The demo's runs: ended, degraded, failed and one waiting for a person, as a user's store holds.
  const demo = spawnSync(process.execPath, [clone, 'demo', '--db', database], { cwd: folder, encoding: 'utf8' });
  if (demo.status !== 0) throw new Error(`keel demo failed: ${demo.stderr}`);
  const store = SqliteStore.open({ path: database, readOnly: true });
  const runId = (await store.listRuns({ limit: 1 }))[0]?.id ?? 'none';
  await store.close();
  const installed = buildInstalledShape();
  const commands: [string, string[]][] = [
    ['--help', ['--help']],
    ['runs', ['runs', '--db', database]],
    ['show RUN', ['show', runId, '--db', database]],
    ['escalations', ['escalations', '--db', database]],
    ['audit verify', ['audit', 'verify', '--db', database]],
  ];
  const shapes: [string, string][] = [
    ['installed', installed],
    ['clone', clone],
  ];
  // Warm the compile cache (bin/keel.js enables it) as a user's second invocation would find it.
  for (const [, bin] of shapes) for (const [, args] of commands) wallMs([bin, ...args], folder);
  const samples = new Map<string, number[]>();
  const sample = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
  // Interleaved, so drift in the machine's load touches every figure alike.
  for (let round = 0; round < rounds; round += 1) {
    sample('baseline', wallMs(['-e', '0'], folder));
    for (const [shape, bin] of shapes) for (const [name, args] of commands) sample(`${shape} ${name}`, wallMs([bin, ...args], folder));
  }
  const baseline = median(samples.get('baseline') ?? []);
  const measures: Measure[] = [{ name: 'cli start: bare node -e 0 (the baseline)', value: Math.round(baseline * 10) / 10, unit: 'ms', detail: `median of ${rounds}, measured in the same loop as each command below` }];
  process.stdout.write(`  cli start: node -e 0: ${baseline.toFixed(1)} ms\n`);
  for (const [shape, bin] of shapes) {
    for (const [name, args] of commands) {
      const values = samples.get(`${shape} ${name}`) ?? [];
      const value = median(values);
      const modules = modulesLoaded(bin, args, folder).length;
      const ratio = value / baseline;
      const detail = `${value.toFixed(1)} ms vs ${baseline.toFixed(1)} ms for node -e 0 (medians of ${rounds}; fastest ${Math.min(...values).toFixed(1)} vs ${Math.min(...(samples.get('baseline') ?? [])).toFixed(1)} ms); ${modules} module files loaded; ${shape === 'installed' ? 'compiled JavaScript, as installed from the package' : 'TypeScript sources of a clone, type-stripped'}`;
      measures.push({ name: `cli start (${shape}): keel ${name} over node -e 0`, value: Math.round(ratio * 100) / 100, unit: '×', detail });
      process.stdout.write(`  cli start (${shape}): keel ${name}: ${ratio.toFixed(2)}× node -e 0  (${detail})\n`);
    }
  }
  rmSync(folder, { recursive: true, force: true });
  rmSync(join(installed, '..', '..'), { recursive: true, force: true });
  return measures;
}

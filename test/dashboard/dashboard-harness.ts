/**
 * What the dashboard's browser tests share: the real `keel` processes (bin/keel.js on this Node)
 * on a test's own database, Debian's Chromium as they launch it, and signing in on the page.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LaunchOptions, Page } from 'playwright-core';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');

/** Debian's Chromium, headless, without its sandbox and its background network calls. */
export const chromiumLaunchOptions: LaunchOptions = { executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-background-networking'] };

/** Where a test's keel processes work: their database and their working folder. */
export interface KeelPlace {
  database: string;
  folder: string;
}

/** The child's environment: nothing of ours leaks in (no KEEL_DB, KEEL_TASKS, KEEL_CONFIG or KEEL_ADMIN_TOKEN from outside). */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_ADMIN_TOKEN: _token, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', ...extra };
}

/** Runs `keel ARGS --db DATABASE` to its end; resolves with its stdout, rejects when it fails. */
export async function keel(place: KeelPlace, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [launcher, ...args, '--db', place.database], { cwd: place.folder, env: environment() });
  return stdout;
}

export interface Service {
  process: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first. */
  line: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Starts a long-running `keel ARGS --db DATABASE` (serve, worker) with `extra` in its environment. */
export function service(place: KeelPlace, args: string[], extra: Record<string, string> = {}): Service {
  const child = spawn(process.execPath, [launcher, ...args, '--db', place.database], { cwd: place.folder, env: environment(extra) });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void; reject: (error: Error) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...waiters]) {
      const match = stdout.match(waiter.pattern);
      if (match === null) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(match);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  void exited.then(() => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`keel ${args[0]} exited before printing ${waiter.pattern}: ${stdout}${stderr}`));
  });
  return {
    process: child,
    output: () => stdout + stderr,
    line: (pattern) => {
      const match = stdout.match(pattern);
      if (match !== null) return Promise.resolve(match);
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
    exited,
  };
}

/** `keel serve` with an admin token; resolves with the address the dashboard is served under (http://127.0.0.1:PORT). */
export async function serveDashboard(place: KeelPlace, token: string): Promise<{ serve: Service; url: string }> {
  const serve = service(place, ['serve', '--port', '0'], { KEEL_ADMIN_TOKEN: token });
  const listening = await serve.line(/dashboard at (http:\/\/\S+)\/dashboard\//);
  return { serve, url: listening[1] ?? '' };
}

/** Signs in on the dashboard's login page and waits for the page it lands on (the escalation queue). */
export async function signIn(page: Page, url: string, token: string, name: string): Promise<void> {
  await page.goto(`${url}/dashboard/#/login`);
  await page.fill('#token', token);
  await page.fill('#name', name);
  await page.click('form.login button[type=submit]');
  await page.locator('#signed-in', { hasText: `signed in as ${name}` }).waitFor();
}

/**
 * What the proxy's tests share: a folder with a config (two copies of the notes server, one
 * server that cannot start), a Cedar policy set, the database, the upstream's effects file, and
 * the real `keel` command to approve, deny and show runs on the same database.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const notesServer = join(import.meta.dirname, 'fixtures', 'notes-server.ts');
export { startNotesHttpServer } from './fixtures/notes-http.ts';
const keelSchema = join(import.meta.dirname, '..', '..', 'policies', 'keel.cedarschema');

const proxyPolicies = `
@id("mcp-tools-permitted")
@reason("a client of the proxy may call the tools the proxy serves")
permit (principal, action == Action::"call-tool", resource is Tool);

@id("no-destructive-tools")
@reason("tools tagged destructive are never called through the proxy")
forbid (principal, action == Action::"call-tool", resource)
when { resource.labels.contains("destructive") };
`;

export interface ProxyFolder {
  folder: string;
  config: string;
  database: string;
  effectsFile: string;
  /** The effects the upstreams performed, in order. */
  effects(): { server: string; tool: string; args: unknown; idempotencyKey: unknown }[];
  remove(): void;
}

/** `remoteUrl`: a Streamable HTTP upstream (fixtures/notes-http.ts), served as `remote`. */
export function proxyFolder(options: { elicitation?: boolean; remoteUrl?: string } = {}): ProxyFolder {
  const folder = mkdtempSync(join(tmpdir(), 'keel-mcp-proxy-'));
  const effectsFile = join(folder, 'effects.jsonl');
  mkdirSync(join(folder, 'policies'));
  writeFileSync(join(folder, 'policies', 'keel.cedarschema'), readFileSync(keelSchema));
  writeFileSync(join(folder, 'policies', 'proxy.cedar'), proxyPolicies);
  const server = (name: string) => ({ command: process.execPath, args: [notesServer], env: { EFFECTS_FILE: effectsFile, SERVER_NAME: name }, startTimeoutMs: 20_000 });
  const config = {
    version: 1,
    routes: [],
    mcpProxy: {
      servers: {
        notes: server('notes'),
        flaky: server('flaky'),
        broken: { command: join(folder, 'no-such-program'), startTimeoutMs: 5_000 },
        // Starts, and never answers initialize.
        stalled: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], startTimeoutMs: 1_000 },
        ...(options.remoteUrl === undefined ? {} : { remote: { url: options.remoteUrl } }),
      },
      tools: {
        'notes.read_note': { sideEffect: 'read', labels: { classification: 'internal' } },
        'notes.write_note': { sideEffect: 'write', deduplicatesOnKey: true, rateLimit: { perTenant: { limit: 3, windowMs: 600_000 } } },
        'notes.delete_note': { sideEffect: 'irreversible', labels: { tags: ['destructive'] } },
        'notes.publish_note': { sideEffect: 'irreversible', approval: { reason: 'publishing makes a note public' } },
        'flaky.hang': { sideEffect: 'read', timeoutMs: 300 },
        'flaky.crash': { sideEffect: 'read' },
        // The same server standing in for one outside the company: what it reads is confidential, what it writes leaves.
        'flaky.read_note': { sideEffect: 'read', labels: { classification: 'confidential' } },
        'flaky.write_note': { sideEffect: 'write', egress: 'external' },
        'broken.anything': { sideEffect: 'read' },
        ...(options.remoteUrl === undefined ? {} : { 'remote.read_note': { sideEffect: 'read' }, 'remote.write_note': { sideEffect: 'write' } }),
      },
      policies: 'policies',
      principal: 'user:ada',
      tenant: 'acme',
      approvalPollMs: 25,
      ...(options.elicitation === true ? { elicitation: true } : {}),
    },
  };
  const configPath = join(folder, 'keel.config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return {
    folder,
    config: configPath,
    database: join(folder, 'keel.db'),
    effectsFile,
    effects: () =>
      existsSync(effectsFile)
        ? readFileSync(effectsFile, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as { server: string; tool: string; args: unknown; idempotencyKey: unknown })
        : [],
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** The child's environment: nothing of the test's Keel settings, no colour. */
export function childEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('KEEL_')) environment[name] = value;
  return { ...environment, NO_COLOR: '1', USER: 'tester' };
}

export interface KeelResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `keel ARGS` to its end, as another process on the same database would. */
export function keel(args: string[]): Promise<KeelResult> {
  const child = spawn(process.execPath, [launcher, ...args], { env: childEnvironment() });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface JournalEventView {
  seq: number;
  type: string;
  data: { [key: string]: unknown };
}

/** `keel show RUN --json`: the run and its journal, its chain checked. */
export async function showRun(database: string, runId: string): Promise<{ run: { status: string; task: string; principal: string; tenant: string }; chain: { ok: boolean }; events: JournalEventView[] }> {
  const shown = await keel(['show', runId, '--json', '--db', database]);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout) as { run: { status: string; task: string; principal: string; tenant: string }; chain: { ok: boolean }; events: JournalEventView[] };
}

/** The text of an MCP tool result's content parts. */
export function textOf(result: { content?: unknown }): string {
  const content = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
  return content.map((part) => part.text ?? '').join(' ');
}

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KeelError } from '../../src/errors/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { keel } from './proxy-harness.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-mcp-proxy-config-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function problem(mcpProxy: unknown): string {
  try {
    parseConfig({ version: 1, routes: [], mcpProxy }, 'keel.config.json');
  } catch (error) {
    assert.ok(error instanceof KeelError && error.code === 'config-invalid', String(error));
    return error.message;
  }
  return 'valid';
}

const files = { command: 'node', args: ['files-server.js'] };

test('the mcpProxy section is checked strictly, each problem one line naming the setting', () => {
  assert.equal(problem({ servers: { files }, tools: { 'files.read': { sideEffect: 'read' } } }), 'valid');
  assert.equal(problem({ servers: {}, tools: {} }), 'keel.config.json: mcpProxy.servers: must name at least one server');
  assert.equal(problem({ servers: { files: { comand: 'node' } }, tools: {} }), 'keel.config.json: mcpProxy.servers.files.comand: unknown setting (allowed here: command, args, env, cwd, url, headers, startTimeoutMs)');
  assert.equal(problem({ servers: { files: { command: 'node', url: 'http://127.0.0.1:9/mcp' } }, tools: {} }), 'keel.config.json: mcpProxy.servers.files: must give either command (a server Keel starts over stdio) or url (a Streamable HTTP server), not both or neither');
  assert.equal(problem({ servers: { files: { url: 'http://127.0.0.1:9/mcp', env: { A: 'b' } } }, tools: {} }), 'keel.config.json: mcpProxy.servers.files.env: applies to command servers only');
  assert.equal(problem({ servers: { files: { url: 'ftp://example.com' } }, tools: {} }), "keel.config.json: mcpProxy.servers.files.url: must be an http(s) URL, got 'ftp://example.com'");
  assert.match(problem({ servers: { Files: files }, tools: {} }), /^keel\.config\.json: mcpProxy\.servers\.Files: must be a server name of lower-case letters/);
  assert.equal(problem({ servers: { files }, tools: { read: { sideEffect: 'read' } } }), 'keel.config.json: mcpProxy.tools.read: must be named <server>.<tool>, e.g. "files.read_note"');
  assert.equal(problem({ servers: { files }, tools: { 'mail.send': { sideEffect: 'write' } } }), "keel.config.json: mcpProxy.tools[\"mail.send\"]: names server 'mail', which mcpProxy.servers does not list (files)");
  assert.equal(problem({ servers: { files }, tools: { 'files.read': { sideEffect: 'reed' } } }), "keel.config.json: mcpProxy.tools[\"files.read\"].sideEffect: must be one of 'read', 'write', 'irreversible', got 'reed'");
  assert.equal(problem({ servers: { files }, tools: { 'files.read': { sideEffect: 'read', timeoutMs: 1.5 } } }), 'keel.config.json: mcpProxy.tools["files.read"].timeoutMs: must be an integer (ms), got 1.5');
  assert.equal(problem({ servers: { files }, tools: { 'files.read': { sideEffect: 'read', approval: true } } }), 'keel.config.json: mcpProxy.tools["files.read"].approval: must be an object, got true');
  assert.equal(problem({ servers: { files }, tools: {}, approvalPollMs: 1 }), 'keel.config.json: mcpProxy.approvalPollMs: must be ≥ 10 (ms), got 1');
});

test('keel mcp-proxy refuses what it cannot serve in one line, before it creates a database or starts a server', async () => {
  const database = join(folder, 'keel.db');
  const withoutSection = join(folder, 'plain.json');
  writeFileSync(withoutSection, JSON.stringify({ version: 1, routes: [] }));
  const badPolicies = join(folder, 'bad-policies.json');
  writeFileSync(badPolicies, JSON.stringify({ version: 1, routes: [], mcpProxy: { servers: { files }, tools: {}, policies: 'no-such-folder' } }));
  const cases: [string[], number, string][] = [
    [['mcp-proxy'], 2, 'keel: error [usage-invalid]: keel mcp-proxy needs --config PATH (or KEEL_CONFIG): a config file whose mcpProxy section names the upstream servers'],
    [['mcp-proxy', '--config', withoutSection, '--port', '9'], 2, 'keel: error [usage-invalid]: keel mcp-proxy takes --port and --host with --http only (without it, it serves stdio)'],
    [['mcp-proxy', '--config', withoutSection, '--http', '--host', '0.0.0.0'], 2, 'keel: error [usage-invalid]: keel mcp-proxy on 0.0.0.0 would let other machines call the upstream tools as the configured principal: pass --allow-anonymous to serve them'],
    [['mcp-proxy', '--config', withoutSection], 1, `keel: error [config-invalid]: ${withoutSection}: mcpProxy: is required for keel mcp-proxy (the upstream servers and how their tools are governed)`],
  ];
  for (const [args, code, line] of cases) {
    const result = await keel([...args, '--db', database]);
    assert.equal(result.code, code, result.stderr);
    assert.equal(result.stderr, `${line}\n`);
  }
  const policies = await keel(['mcp-proxy', '--config', badPolicies, '--db', database]);
  assert.equal(policies.code, 1);
  assert.match(policies.stderr, /^keel: error \[[a-z-]+\]: .*no-such-folder.*\n$/);
  assert.equal(existsSync(database), false, 'nothing was created');
});

// An MCP client (the official SDK) using `keel mcp-proxy` over stdio: it lists the tools, makes an
// allowed call, a call the policy denies, and one that waits until another process approves it.
// Run from a clone: node examples/mcp-proxy/client.ts   (KEEL_DB picks the database; KEEL_BIN the keel launcher)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const keelBin = process.env.KEEL_BIN ?? join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const keel = (args: string[]) => spawnSync(process.execPath, [keelBin, ...args], { encoding: 'utf8' });
const textOf = (result: unknown) => ((result as { content?: { text?: string }[] }).content ?? []).map((part) => part.text ?? '').join(' ');

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [keelBin, 'mcp-proxy', '--config', join(import.meta.dirname, 'keel.config.json')],
  env: process.env as Record<string, string>,
});
const client = new Client({ name: 'example-client', version: '1.0.0' });
await client.connect(transport);

console.log('tools:', (await client.listTools()).tools.map((tool) => tool.name).join(', '));
const saved = await client.callTool({ name: 'notes__write_note', arguments: { name: 'plan', text: 'ship it' } });
console.log('write_note:', textOf(saved));
console.log('read_note:', textOf(await client.callTool({ name: 'notes__read_note', arguments: { name: 'plan' } })));
console.log('delete_note:', textOf(await client.callTool({ name: 'notes__delete_note', arguments: { name: 'plan' } })));

// The call waits, durably, for a person; the proxy says which run to approve through progress notifications.
let approved = false;
const published = await client.callTool({ name: 'notes__publish_note', arguments: { name: 'plan' } }, undefined, {
  timeout: 120_000,
  onprogress: ({ message }) => {
    const runId = /keel approve (\S+)/.exec(message ?? '')?.[1];
    if (runId === undefined || approved) return;
    approved = true;
    console.log('publish_note:', message);
    console.log('keel approve:', keel(['approve', runId, '--as', 'example-lead']).stdout.trim());
  },
});
console.log('publish_note:', textOf(published));
await client.close();
console.log(`the session's journal: keel show ${String(saved._meta?.['keel.dev/run-id'])}`);

// The upstream for the example: an ordinary MCP server (the official SDK) that knows nothing of
// Keel. It keeps notes in memory and deduplicates writes on the idempotency key Keel puts in `_meta`.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes = new Map([['welcome', 'Notes served through keel mcp-proxy.']]);
const seen = new Set<string>();
const server = new McpServer({ name: 'example-notes', version: '1.0.0' });
const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

server.registerTool('read_note', { description: 'Read a note by name.', inputSchema: { name: z.string() } }, ({ name }) => text(notes.get(name) ?? `no note ${name}`));
server.registerTool('write_note', { description: 'Write a note.', inputSchema: { name: z.string(), text: z.string().max(500) } }, ({ name, text: body }, extra) => {
  const key = extra._meta?.['keel.dev/idempotency-key'];
  // A write Keel repeats after a crash carries the same key and is not applied twice.
  if (typeof key !== 'string' || !seen.has(key)) notes.set(name, body);
  if (typeof key === 'string') seen.add(key);
  return text(`saved ${name}`);
});
server.registerTool('delete_note', { description: 'Delete a note.', inputSchema: { name: z.string() } }, ({ name }) => text(notes.delete(name) ? `deleted ${name}` : `no note ${name}`));
server.registerTool('publish_note', { description: 'Publish a note.', inputSchema: { name: z.string() } }, ({ name }) => text(`published ${name}: ${notes.get(name) ?? ''}`));

await server.connect(new StdioServerTransport());

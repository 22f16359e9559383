import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The `_meta` key through which Keel hands MCP servers the idempotency key (see mcp-tools.ts). */
const idempotencyMetaKey = 'keel.dev/idempotency-key';

/**
 * A small but real MCP server for tests: `lookup_weather` (a read with a structured result),
 * `send_message` (an effect that deduplicates on Keel's idempotency key), `slow_echo` (hangs until
 * cancelled) and `undeclared_tool` (which a registrant gives no governance, so Keel skips it).
 */
export function createWeatherServer(): McpServer {
  const server = new McpServer({ name: 'keel-test-weather', version: '1.2.0' });
  const sent = new Map<string, string>();

  server.registerTool(
    'lookup_weather',
    {
      description: 'Current weather for a city.',
      inputSchema: { city: z.string().min(1), unit: z.enum(['celsius', 'fahrenheit']).optional() },
      outputSchema: { city: z.string(), temperature: z.number(), unit: z.string(), conditions: z.string() },
    },
    ({ city, unit }) => {
      const celsius = 12 + (city.length % 10);
      const structured = { city, temperature: unit === 'fahrenheit' ? celsius * 1.8 + 32 : celsius, unit: unit ?? 'celsius', conditions: 'cloudy' };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );

  server.registerTool(
    'send_message',
    {
      description: 'Send a message to a recipient.',
      inputSchema: { to: z.string().min(1), body: z.string().min(1).max(500) },
    },
    ({ to, body }, extra) => {
      const key = extra._meta?.[idempotencyMetaKey];
      const dedupeKey = typeof key === 'string' ? key : `${to}:${body}:${sent.size}`;
      const messageId = sent.get(dedupeKey) ?? `message-${sent.size + 1}`;
      const repeated = sent.has(dedupeKey);
      sent.set(dedupeKey, messageId);
      return { content: [{ type: 'text', text: JSON.stringify({ messageId, idempotencyKey: key ?? null, repeated }) }] };
    },
  );

  server.registerTool(
    'slow_echo',
    { description: 'Echoes after a long time, or never.', inputSchema: { text: z.string() } },
    ({ text }, extra) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ content: [{ type: 'text', text }] }), 60_000);
        extra.signal.addEventListener('abort', () => clearTimeout(timer));
      }),
  );

  server.registerTool('undeclared_tool', { description: 'Nobody governs this one.', inputSchema: {} }, () => ({ content: [{ type: 'text', text: 'ran' }] }));

  return server;
}

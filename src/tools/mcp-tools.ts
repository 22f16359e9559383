import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { JsonSchemaV1, JsonValue, ToolSchemaV1, ToolV1 } from '../spec/index.ts';
import type { ToolRegistry } from './tool-registry.ts';
import { schemaProblem } from './tool-schema.ts';

/**
 * The `_meta` key carrying Keel's idempotency key on every MCP tool call, so a server that
 * performs effects can deduplicate a call Keel repeats after a crash.
 */
export const mcpIdempotencyMetaKey = 'keel.dev/idempotency-key';

export type McpArguments = Record<string, JsonValue>;

/**
 * What MCP does not carry and Keel must know to govern a tool: given by whoever registers the
 * server, tool by tool. MCP's own annotations (readOnlyHint and the like) are hints from the
 * server, not commitments, so they never stand in for these.
 */
export type McpToolGovernance = Pick<ToolV1<McpArguments, JsonValue>, 'scopes' | 'sideEffect' | 'timeoutMs' | 'rateLimit' | 'constraints' | 'approval' | 'deduplicatesOnKey'> & {
  /** Defaults to the registration's owner. */
  owner?: string;
  /** Defaults to the server's version. */
  version?: string;
};

export interface RegisterMcpToolsOptions {
  registry: ToolRegistry;
  client: Client;
  owner: string;
  /** By the server's tool name. A tool without an entry is not registered: it could not be governed. */
  governance: Record<string, McpToolGovernance>;
  /** Prepended to each name the model sees (e.g. `weather_`), to keep servers from colliding. */
  namePrefix?: string;
}

export interface McpRegistration {
  /** Names as registered (prefixed). */
  registered: string[];
  /** Server tools left out, and why. */
  skipped: { name: string; reason: string }[];
}

/** A server tool as `tools/list` describes it (the fields Keel uses). */
interface ListedTool {
  name: string;
  description?: string;
  inputSchema: JsonSchemaV1;
  outputSchema?: JsonSchemaV1;
}

const sdkTimeoutSlackMs = 1_000;

/** Content parts as the server sent them, when the tool declares no structured output. */
const contentOutputSchema = z.object({ content: z.array(z.looseObject({ type: z.string() })) });

/**
 * Lists an MCP server's tools and registers each one it has governance for as an ordinary ToolV1
 * whose schemas are the server's JSON Schemas: arguments validated before the server sees them,
 * structured output validated after, and every check in `callTool` applied.
 */
export async function registerMcpTools(options: RegisterMcpToolsOptions): Promise<McpRegistration> {
  const listed = await listAllTools(options.client);
  const unknown = Object.keys(options.governance).filter((name) => !listed.some((tool) => tool.name === name));
  if (unknown.length > 0) throw new KeelError('config-invalid', `governance is given for tools the MCP server does not have: ${unknown.join(', ')}`);
  const serverVersion = options.client.getServerVersion()?.version ?? '0';
  const registration: McpRegistration = { registered: [], skipped: [] };
  for (const listedTool of listed) {
    const governance = options.governance[listedTool.name];
    if (governance === undefined) {
      registration.skipped.push({ name: listedTool.name, reason: 'no governance given' });
      continue;
    }
    const schemas = schemasOf(listedTool);
    if (typeof schemas === 'string') {
      registration.skipped.push({ name: listedTool.name, reason: schemas });
      continue;
    }
    const tool = adapt(options, listedTool, governance, schemas, serverVersion);
    options.registry.register(tool);
    registration.registered.push(tool.name);
  }
  return registration;
}

async function listAllTools(client: Client): Promise<ListedTool[]> {
  const tools: ListedTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...(page.tools as ListedTool[]));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

interface McpSchemas {
  input: ToolSchemaV1<McpArguments>;
  output: ToolSchemaV1<JsonValue>;
  structured: boolean;
}

/** The server's schemas without `$schema`; a tool whose schema cannot be enforced is left out, with the reason. */
function schemasOf(tool: ListedTool): McpSchemas | string {
  const input = withoutDialect(tool.inputSchema);
  const output = tool.outputSchema === undefined ? undefined : withoutDialect(tool.outputSchema);
  const problem = schemaProblem(input) ?? (output === undefined ? undefined : schemaProblem(output));
  if (problem !== undefined) return `its schema cannot be enforced: ${problem}`;
  return output === undefined ? { input, output: contentOutputSchema as z.ZodType<JsonValue>, structured: false } : { input, output, structured: true };
}

function adapt(options: RegisterMcpToolsOptions, listed: ListedTool, governance: McpToolGovernance, schemas: McpSchemas, serverVersion: string): ToolV1<McpArguments, JsonValue> {
  const { owner, version, ...rules } = governance;
  return {
    ...rules,
    name: `${options.namePrefix ?? ''}${listed.name}`,
    version: version ?? serverVersion,
    owner: owner ?? options.owner,
    description: listed.description ?? listed.name,
    // The model sees the server's schema as the server wrote it, not a round trip through zod.
    inputSchema: schemas.input,
    outputSchema: schemas.output,
    execute: async (args, context) => {
      const result = await options.client.callTool(
        { name: listed.name, arguments: args, _meta: { [mcpIdempotencyMetaKey]: context.idempotencyKey } },
        undefined,
        // Keel's timeout aborts `signal` (and the SDK then tells the server to cancel); the SDK's own
        // timer is set later so that Keel's, with its journal-friendly error, always fires first.
        { signal: context.signal, timeout: governance.timeoutMs + sdkTimeoutSlackMs },
      );
      if (result.isError === true) throw new KeelError('tool-error', `MCP tool ${listed.name} failed: ${textOf(result.content)}`);
      return (schemas.structured ? result.structuredContent : { content: result.content }) as JsonValue;
    },
  };
}

function withoutDialect(schema: JsonSchemaV1): JsonSchemaV1 {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return 'no details';
  const texts = content.flatMap((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? [part.text] : []));
  return texts.length === 0 ? 'no details' : texts.join(' ');
}

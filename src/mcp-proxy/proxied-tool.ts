/**
 * An upstream tool as Keel governs it: an ordinary tool (the agent loop's AgentTool) whose
 * schema is the upstream's, whose governance is the config's entry for it, and whose `execute`
 * forwards the call to the upstream with the step's idempotency key in `_meta`. The whole MCP
 * result (content and structured content) is its output, so the client gets what the upstream
 * said, and the journal records it.
 */
import { z } from 'zod';
import type { AgentTool } from '../agent/index.ts';
import type { McpProxyToolSetting } from '../config/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JsonSchemaV1, JsonValue } from '../spec/index.ts';
import { mcpIdempotencyMetaKey } from '../tools/index.ts';
import type { Upstream, UpstreamTool } from './upstream.ts';

const defaultTimeoutMs = 30_000;

/** An MCP tool result: its content parts, and structured content when the tool has any. */
const resultSchema = z.looseObject({ content: z.array(z.looseObject({ type: z.string() })) }) as unknown as z.ZodType<JsonValue>;

/** The name clients see: the server's name, two underscores, the tool's. */
export function exposedName(server: string, tool: string): string {
  return `${server}__${tool}`;
}

export function proxiedTool(upstream: Upstream, listed: UpstreamTool, setting: McpProxyToolSetting): AgentTool {
  const name = exposedName(upstream.name, listed.name);
  const timeoutMs = setting.timeoutMs ?? defaultTimeoutMs;
  const tags = setting.labels?.tags ?? [];
  const sideEffect = setting.sideEffect === 'read' ? 'none' : setting.sideEffect === 'irreversible' ? 'irreversible' : 'idempotent';
  const approval = setting.approval;
  return {
    name,
    version: upstream.version,
    owner: `mcp:${upstream.name}`,
    description: listed.description ?? listed.name,
    inputSchema: withoutDialect(listed.inputSchema),
    outputSchema: resultSchema,
    scopes: [],
    sideEffect: setting.sideEffect,
    timeoutMs,
    ...(setting.deduplicatesOnKey === undefined ? {} : { deduplicatesOnKey: setting.deduplicatesOnKey }),
    ...(setting.rateLimit === undefined ? {} : { rateLimit: setting.rateLimit }),
    ...(approval === undefined ? {} : { approval: { when: () => approval.reason } }),
    access: {
      // The Tool entity Cedar decides on, with the config's tags as its `labels` attribute.
      resource: () => ({ type: 'Tool', id: name, attributes: { sideEffect, labels: tags } }),
      ...(setting.egress === undefined ? {} : { egress: setting.egress }),
      ...(setting.sensitiveArgs === undefined ? {} : { sensitiveArgs: setting.sensitiveArgs }),
      resultLabels: () => ({
        ...(setting.labels?.classification === undefined ? {} : { classification: setting.labels.classification }),
        ...(setting.labels?.origins === undefined ? {} : { origins: setting.labels.origins }),
      }),
    },
    execute: async (args: unknown, context) => {
      const result = await upstream.call(listed.name, args as { [key: string]: JsonValue }, { [mcpIdempotencyMetaKey]: context.idempotencyKey }, context.signal, timeoutMs);
      if (result.isError === true) throw new KeelError('tool-error', `${name} answered with an error: ${textOf(result.content)}`);
      return (result.structuredContent === undefined ? { content: result.content } : { content: result.content, structuredContent: result.structuredContent });
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

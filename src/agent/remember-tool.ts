import { z } from 'zod';
import { LongTermMemory, memorySource } from '../memory/index.ts';
import { memoryLabelsInRun } from '../redaction/index.ts';
import { defineTool } from '../tools/index.ts';
import type { AgentTool } from './agent-declaration.ts';
import type { AgentRuntime } from './agent-runtime.ts';

/**
 * The tool through which an agent with long-term memory adds to it: a write like any other, so it
 * is decided, rate-limited, journaled and keyed. The fact is labelled untrusted: the model may be
 * repeating an injection, and a remembered fact must never steer a sensitive argument later.
 * While the run holds data about subjects, the fact is stored sealed under them (docs/redaction.md).
 */
export function rememberTool(runtime: AgentRuntime, run: object): AgentTool {
  return defineTool({
    name: 'remember',
    version: '1',
    owner: 'keel',
    description: 'Remember one fact about the user for later conversations.',
    inputSchema: z.object({ fact: z.string().min(1).max(2_000) }),
    outputSchema: z.object({ remembered: z.boolean() }),
    scopes: ['memory:write'],
    sideEffect: 'write',
    deduplicatesOnKey: true,
    timeoutMs: 5_000,
    execute: async ({ fact }, call) => {
      const memory = new LongTermMemory({ store: runtime.store, tenant: call.tenant, principal: call.principal });
      const source = memorySource(call.runId, call);
      // Run again after a crash, the call finds its own entry and writes nothing.
      if ((await memory.entries()).some((entry) => entry.source.runId === source.runId && entry.source.step === source.step)) return { remembered: true };
      await memory.remember(fact, { role: 'user', source, labels: memoryLabelsInRun(run, { origin: 'untrusted' }) });
      return { remembered: true };
    },
  });
}

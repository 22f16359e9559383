import type { ContextItem, ContextLabels, ContextSection, ContextSignal, PromptTemplate, RetrieverV1 } from '../../../src/context/index.ts';
import { assembleContext, FolderRetriever, retrieveForContext, templateItem } from '../../../src/context/index.ts';
import { defineFailureContract, withFailureContract } from '../../../src/contracts/index.ts';
import type { RunContext } from '../../../src/engine/index.ts';
import { KeelError } from '../../../src/errors/index.ts';
import { canonicalJson, sha256 } from '../../../src/journal/index.ts';
import type { JsonValue, MessageV1 } from '../../../src/spec/index.ts';
import type { Order } from './orders.ts';
import type { OrderLookup, PolicyDocument } from './support-tools.ts';
import { autoApprovalLimitCents, lookupOrder, readPolicy } from './support-tools.ts';

/** The day the demo's data describes (orders' `deliveredDaysAgo`, policies' ages): ages never depend on the clock. */
export const demoReferenceDate = '2026-11-16T00:00:00Z';

const day = 86_400_000;

/** How version 3 retrieves the policy; part of the task's config, so its hash changes with them. */
export const policyRetrieval = {
  retriever: 'folder:policies',
  /** The category's policy and the general one it refines. */
  limit: 2,
  /** Every term of the query should be found; less means no policy names the category. */
  minCoverage: 0.75,
  /** Policies are reviewed yearly. */
  staleAfterMs: 365 * day,
} as const;

/** Version 3's system prompt. `{{approvalLimit}}` comes from the task, not the model. */
export const instructionsTemplate: PromptTemplate = {
  id: 'support-agent',
  version: '3',
  text:
    "You are a support agent for an online shop. Below are the customer's order (look it up if it is missing) and the refund policy documents retrieved for it. " +
    "Apply the policy for the order's category, or the general policy when no document covers the category, and refund only when that policy allows it: " +
    'never more than the order total, and a refund above {{approvalLimit}} waits for a support lead. ' +
    'Finish with JSON: answer (what the customer reads), refundCents (the refund you issued, or null), policy (the document you applied) ' +
    'and confidence (0 to 1: how sure you are that the policy covers this order).',
};

/** Tokens kept free for the answer: the demo's output bound. */
const reserveForOutput = 400;

/** Small enough for every model the demo runs on; the prompt uses a fraction of it. */
const contextWindow = 16_000;

export interface SupportContext {
  messages: MessageV1[];
  /** The order the message names, looked up before the agent loop; undefined when it names none that exists. */
  order: Order | undefined;
  manifestHash: string;
}

/** What the retrieval step journals as its result: the policy items exactly as they go into the prompt. */
interface RetrievedPolicy {
  [key: string]: JsonValue;
  items: ContextItem[];
  signals: ContextSignal[];
}

/**
 * Version 3's context, built before the agent loop: the order the message names (a journaled
 * tool call), the refund policy retrieved for that order (a journaled step, its signals
 * journaled too; a retriever that fails falls back to the general policy, marked), then the
 * prompt assembled from the instructions, the order, the policy and the customer's message, its
 * manifest journaled. On resume and replay the lookups come back from the journal, and the same
 * inputs assemble to the same bytes.
 */
export async function buildSupportContext(context: RunContext, input: { message: string; model: string }, policiesFolder: string): Promise<SupportContext> {
  const orderId = /\b([A-Z]-\d{4})\b/.exec(input.message)?.[1];
  let order: Order | undefined;
  if (orderId !== undefined) {
    const lookup = (await context.tool('lookup_order', { orderId }, (args) => lookupOrder(args.orderId) as unknown as JsonValue, { idempotent: true })) as unknown as OrderLookup;
    if (lookup.found) order = lookup.order;
  }

  // The query names the category, which the customer rarely does ("my headphones"): the order does.
  const query = order === undefined ? `refund policy: ${input.message}` : `refund policy ${order.category}`;
  const labels: ContextLabels = { tenants: [context.tenant], classification: 'internal', origins: ['system'] };
  const policy = await withFailureContract(
    context,
    defineFailureContract<RetrievedPolicy>({
      point: 'refund-policy-retrieval',
      on: {
        unavailable: {
          action: 'fallback',
          to: async (failure) => {
            const general = (await context.tool('read_policy', { category: 'general' }, (args) => readPolicy(args.category) as unknown as JsonValue, { idempotent: true })) as unknown as PolicyDocument;
            context.markConfidence({
              subject: 'refund-policy',
              confidence: 0.5,
              reason: `the policy retriever failed (${failure.message}); the answer rests on the general policy (${general.document})`,
            });
            return { items: [policyItem('read_policy', general.document, general.version, general.text.trim(), labels)], signals: [] };
          },
        },
      },
    }),
    async () => ({
      value: await context.step(
        'retrieve-policy',
        async () => {
          const retrieval = await retrieveForContext(policyRetriever(policiesFolder), query, { ...policyRetrieval, labels });
          for (const signal of retrieval.signals) context.record('retrieval-signal', signal);
          if (!retrieval.ok) throw retrieval.error;
          // The document's name goes in with its text: the answer names the policy it applied.
          const items = retrieval.items.map((item) => ({ ...item, text: `${policyHeader(item.id.replace(/#\d+$/, ''), item.version)}${item.text}` }));
          return { items, signals: retrieval.signals } satisfies RetrievedPolicy;
        },
        { idempotent: true, input: { query } },
      ),
    }),
  );

  const sections: ContextSection[] = [
    {
      name: 'instructions',
      kind: 'instructions',
      priority: 100,
      position: 0,
      maxTokens: 400,
      truncation: 'never',
      items: [templateItem(instructionsTemplate, { approvalLimit: `$${(autoApprovalLimitCents / 100).toFixed(2)}` }, { tenants: [context.tenant], origins: ['system'] })],
    },
    {
      name: 'order',
      kind: 'tool-state',
      priority: 90,
      position: 1,
      maxTokens: 200,
      truncation: 'never',
      items: order === undefined ? [] : [orderItem(order, context.tenant)],
    },
    { name: 'policy', kind: 'retrieval', priority: 80, position: 2, maxTokens: 1_000, truncation: 'drop-lowest-score', items: policy.items },
    {
      name: 'request',
      kind: 'history',
      priority: 70,
      position: 3,
      maxTokens: 1_000,
      truncation: 'truncate-tail',
      items: [{ source: 'request', id: 'message', version: '1', text: input.message, labels: { tenants: [context.tenant], classification: 'personal', origins: ['user'] }, role: 'user' }],
    },
  ];
  const [provider = 'sim', modelId = 'default'] = input.model.split(/:(.*)/s);
  const assembled = assembleContext({ sections, target: { provider, modelId, contextWindow }, reserveForOutput, signals: policy.signals });
  const { manifest } = assembled;

  // A step, so the manifest is journaled once per run (a resumed run assembles again, and must
  // assemble the same context it started with: anything else is a divergence, not a new prompt).
  const recorded = await context.step(
    'assemble-context',
    () => {
      context.record('context-assembly', { manifestHash: manifest.manifestHash, manifest });
      return { manifestHash: manifest.manifestHash, promptTokens: manifest.totals.promptTokens, items: manifest.totals.keptItems };
    },
    { idempotent: true },
  );
  if (recorded.manifestHash !== manifest.manifestHash) {
    throw new KeelError('replay-divergence', `run ${context.runId} started with context manifest ${recorded.manifestHash}, but the same inputs now assemble to ${manifest.manifestHash}`);
  }
  return { messages: assembled.messages, order, manifestHash: manifest.manifestHash };
}

/** Opened for each retrieval, so a long-running worker reads the policies as they are now. */
function policyRetriever(folder: string): RetrieverV1 {
  const options = { folder, name: policyRetrieval.retriever, now: () => Date.parse(demoReferenceDate) };
  return {
    specificationVersion: 'v1',
    name: options.name,
    retrieve: async (query, retrieveOptions) => (await FolderRetriever.open(options)).retrieve(query, retrieveOptions),
  };
}

/** How a policy document starts in the prompt; the simulated model reads the name from it. */
export function policyHeader(document: string, version: string): string {
  return `Refund policy document ${document} (version ${version}):\n\n`;
}

function policyItem(source: string, document: string, version: string, text: string, labels: ContextLabels): ContextItem {
  return { source, id: document, version, text: `${policyHeader(document, version)}${text}`, labels, role: 'user' };
}

/** How the order starts in the prompt; the simulated model reads the order from it. */
export const orderHeader = 'Order on file: ';

function orderItem(order: Order, tenant: string): ContextItem {
  // Canonical JSON: the order comes back from the journal with its keys sorted on resume and replay.
  const text = `${orderHeader}${canonicalJson(order)}`;
  return {
    source: 'lookup_order',
    id: order.id,
    version: sha256(text).slice(0, 16),
    text,
    labels: { tenants: [tenant], classification: 'personal', origins: ['system'] },
    role: 'system',
  };
}

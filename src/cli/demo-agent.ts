import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AgentDefinition, Keel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { RunOutcome } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { SimulatorScript } from '../models/index.ts';
import type { CommandContext } from './command.ts';

/** One demo run as the example's `runDemo` reports it. */
export interface DemoRun {
  id: string;
  task: string;
  status: RunOutcome['status'];
  customer: string;
  answer: string | null;
  refundId: string | null;
  refundCents: number | null;
  reason: string | null;
  confidence: RunOutcome['confidence'];
  steps: number;
  tokens: number;
  costMicros: number;
  durationMs: number;
}

interface Payments {
  close(): void;
}

/** What the CLI uses of examples/support-refund: its public exports, as a user's code would. */
interface SupportRefundExample {
  supportRefundAgent: (options: { model?: string; seed?: number; payments?: Payments }) => AgentDefinition;
  PaymentsLedger: new (path: string) => Payments;
  openPayments: (database: string | undefined, environment: NodeJS.ProcessEnv) => Payments;
  runDemo: (keel: Keel) => Promise<DemoRun[]>;
  supportScript: SimulatorScript;
}

/**
 * Where the example is: beside the sources in a clone (examples/support-refund/index.ts), or
 * compiled into the package's dist/examples/ when installed. It is loaded, not imported, because
 * it is a user of the package (it imports 'keel'), not a part of it.
 */
function exampleLocations(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', '..', 'examples', 'support-refund', 'index.ts'), join(here, '..', 'examples', 'support-refund', 'index.js')];
}

async function loadExample(): Promise<SupportRefundExample> {
  const locations = exampleLocations();
  const location = locations.find((path) => existsSync(path));
  if (location === undefined) {
    throw new KeelError('tasks-invalid', `the support-refund example is not in this installation (looked for ${locations.join(' and ')}); serve your own agents with --tasks`);
  }
  const example = (await import(pathToFileURL(location).href)) as Partial<SupportRefundExample>;
  const exported = [example.supportRefundAgent, example.PaymentsLedger, example.openPayments, example.runDemo, example.supportScript];
  if (exported.some((value) => typeof value !== 'function')) {
    throw new KeelError('tasks-invalid', `${location} does not export supportRefundAgent, PaymentsLedger, openPayments, runDemo and supportScript`);
  }
  return example as SupportRefundExample;
}

export interface DemoAgent {
  agent: AgentDefinition;
  /** The model the agent names: the config's `support` route when it has one, else `--model` (default `sim:default`). */
  model: string;
  /** The config's `support` route, when it answers instead of `--model`. */
  route: { name: string; models: string[] } | undefined;
  runDemo: (keel: Keel) => Promise<DemoRun[]>;
  supportScript: SimulatorScript;
  close(): void;
}

/**
 * The example's support agent as this process serves it (what `keel demo` runs, and what
 * approve, resume and replay serve when no tasks module is named). The model and the seed are
 * settings of the process, like the config: a run started with `--model M` continues on M only
 * when it is approved or resumed with `--model M` too. A replay calls no model and pays nothing:
 * it gets the simulator and a payments ledger in memory, and `--model` there is its candidate.
 */
export async function openDemoAgent(context: CommandContext, config: KeelConfig | undefined, options: { replay?: boolean } = {}): Promise<DemoAgent> {
  const seed = context.options.seed === undefined ? 7 : Number(context.options.seed);
  if (!Number.isInteger(seed)) throw new KeelError('usage-invalid', `--seed must be an integer, got ${context.options.seed}`);
  const example = await loadExample();
  const route = config?.routes.find((candidate) => candidate.name === 'support');
  const model = route !== undefined ? route.name : options.replay === true ? 'sim:default' : (context.options.model ?? 'sim:default');
  // The payments system lives beside the run store (a file in its folder, a schema of its
  // PostgreSQL database), so a run resumed from another folder or machine pays on its key once.
  const payments = options.replay === true ? new example.PaymentsLedger(':memory:') : example.openPayments(context.options.db, context.environment);
  return {
    agent: example.supportRefundAgent({ model, seed, payments }),
    model,
    route: route === undefined ? undefined : { name: route.name, models: [...route.models] },
    runDemo: example.runDemo,
    supportScript: example.supportScript,
    close: () => payments.close(),
  };
}

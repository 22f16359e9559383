import { KeelError } from '../errors/index.ts';
import type { Command } from './command.ts';
import { checkWholeNumber } from './whole-number-option.ts';

/** Every option `keel` parses; each command accepts the ones its entry lists, plus --db and --help. */
export const optionNames = [
  'db',
  'json',
  'model',
  'seed',
  'status',
  'limit',
  'config',
  'reason',
  'as',
  'all',
  'tasks',
  'input',
  'principal',
  'tenant',
  'concurrency',
  'enqueue',
  'port',
  'host',
  'public-key',
  'strict',
  'out',
  'require-keys',
  'allow-anonymous',
  'access-log',
  'budget-micros',
  'per',
  'models',
  'rpm',
  'tpm',
  'expires-in',
  'http',
  'once',
  'metrics-port',
  'fault',
  'runs',
  'html',
  'task',
  'since',
  'until',
  'by',
  'where',
  'kind',
  'format',
  'score',
  'note',
  'dataset',
  'baseline-model',
  'baseline-run',
  'scorer',
  'judge',
  'count',
  'margin',
  'effect-size',
  'from',
  'to',
  'policies',
  'subject',
  'dry-run',
  'tag',
] as const;
export type OptionName = (typeof optionNames)[number];

export interface CommandEntry {
  /** What the command takes, printed when it is given something else. */
  usage: string;
  /** The positional arguments it takes, by name (`RUN`, `TASK`); none for most. */
  positionals: string[];
  /** Its options besides --db. */
  options: OptionName[];
  /** Said after the usage when extra arguments are given: what the command does with none. */
  note?: string;
  load: () => Promise<Command>;
}

// What serves tasks: the tasks module, the config, and (when the demo's agent is served) its model and seed.
const serving: OptionName[] = ['json', 'tasks', 'config', 'model', 'seed'];

// Loaded when named: a command pays start-up only for what it uses (the model SDKs are heavy).
export const commandTable: Record<string, CommandEntry> = {
  demo: {
    usage: 'keel demo [--model P:M] [--seed N] [--config PATH] [--count N]',
    positionals: [],
    options: ['json', 'config', 'model', 'seed', 'count'],
    load: async () => (await import('./commands/demo.ts')).demoCommand,
  },
  run: {
    usage: 'keel run TASK --input JSON [--principal P] [--tenant T] [--enqueue]',
    positionals: ['TASK'],
    options: [...serving, 'input', 'principal', 'tenant', 'enqueue'],
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  worker: {
    usage: 'keel worker [--concurrency N] [--tasks PATH] [--metrics-port N [--host 127.0.0.1]]',
    positionals: [],
    // It prints a line per run as it settles; there is no one document to print as JSON.
    options: ['tasks', 'config', 'model', 'seed', 'concurrency', 'metrics-port', 'host'],
    load: async () => (await import('./commands/worker.ts')).workerCommand,
  },
  serve: {
    usage: 'keel serve [--port 8787] [--host 127.0.0.1] [--config PATH] [--policies DIR] [--require-keys] [--allow-anonymous] [--access-log]',
    positionals: [],
    options: ['config', 'policies', 'port', 'host', 'require-keys', 'allow-anonymous', 'access-log'],
    load: async () => (await import('./commands/serve.ts')).serveCommand,
  },
  'mcp-proxy': {
    usage: 'keel mcp-proxy --config PATH [--http [--port 8788] [--host 127.0.0.1] [--allow-anonymous]]',
    positionals: [],
    options: ['config', 'http', 'port', 'host', 'allow-anonymous'],
    load: async () => (await import('./commands/mcp-proxy.ts')).mcpProxyCommand,
  },
  runs: {
    usage: 'keel runs [--status S] [--limit N] [--tag NAME=VALUE]… [--since T] [--until T]',
    positionals: [],
    options: ['json', 'status', 'limit', 'tag', 'since', 'until'],
    load: async () => (await import('./commands/runs.ts')).runsCommand,
  },
  spend: {
    usage: 'keel spend [--since T] [--until T] [--by tenant|principal|task|tag:NAME]',
    positionals: [],
    options: ['json', 'since', 'until', 'by'],
    load: async () => (await import('./commands/spend.ts')).spendCommand,
  },
  show: {
    usage: 'keel show RUN',
    positionals: ['RUN'],
    options: ['json', 'html'],
    load: async () => (await import('./commands/show.ts')).showCommand,
  },
  resume: {
    usage: 'keel resume [--tasks PATH]',
    positionals: [],
    options: serving,
    note: 'it resumes every open run of the tasks it serves; a run waiting for a person continues with keel approve RUN',
    load: async () => (await import('./commands/resume.ts')).resumeCommand,
  },
  replay: {
    usage: 'keel replay RUN [--model PROVIDER:MODEL]',
    positionals: ['RUN'],
    options: serving,
    load: async () => (await import('./commands/replay.ts')).replayCommand,
  },
  escalations: {
    usage: 'keel escalations',
    positionals: [],
    options: ['json'],
    load: async () => (await import('./commands/escalations.ts')).escalationsCommand,
  },
  approve: {
    usage: 'keel approve RUN [--as NAME] [--reason "…"]',
    positionals: ['RUN'],
    options: [...serving, 'as', 'reason'],
    load: async () => (await import('./commands/decide.ts')).approveCommand,
  },
  deny: {
    usage: 'keel deny RUN --reason "…" [--as NAME]',
    positionals: ['RUN'],
    options: [...serving, 'as', 'reason'],
    load: async () => (await import('./commands/decide.ts')).denyCommand,
  },
  stop: {
    usage: 'keel stop RUN | keel stop --all [--reason "…"]',
    positionals: ['RUN'],
    options: ['json', 'all', 'reason', 'as'],
    load: async () => (await import('./commands/stop.ts')).stopCommand,
  },
  drill: {
    usage: 'keel drill TASK --fault F [--runs N] [--json] [--html PATH] [--input JSON] [--principal P] [--tenant T]',
    positionals: ['TASK'],
    options: [...serving, 'fault', 'runs', 'html', 'input', 'principal', 'tenant'],
    load: async () => (await import('./commands/drill.ts')).drillCommand,
  },
  'keys create': {
    usage: 'keel keys create --tenant T --principal P [--budget-micros N --per run|day|month] [--models a,b] [--rpm N] [--tpm N] [--expires-in 30d|12h|90m]',
    positionals: [],
    options: ['json', 'tenant', 'principal', 'budget-micros', 'per', 'models', 'rpm', 'tpm', 'expires-in'],
    load: async () => (await import('./commands/keys.ts')).keysCreateCommand,
  },
  'keys list': {
    usage: 'keel keys list',
    positionals: [],
    options: ['json'],
    load: async () => (await import('./commands/keys.ts')).keysListCommand,
  },
  'keys revoke': {
    usage: 'keel keys revoke KEY',
    positionals: ['KEY'],
    options: ['json'],
    load: async () => (await import('./commands/keys.ts')).keysRevokeCommand,
  },
  'keys rotate': {
    usage: 'keel keys rotate KEY',
    positionals: ['KEY'],
    options: ['json'],
    load: async () => (await import('./commands/keys.ts')).keysRotateCommand,
  },
  'dataset create': {
    usage: 'keel dataset create NAME --task T [--kind run|model-call|tool-call] [--status S,…] [--since 30d] [--where label=good] [--limit N]',
    positionals: ['NAME'],
    options: ['json', 'task', 'kind', 'status', 'since', 'where', 'limit'],
    load: async () => (await import('./commands/dataset.ts')).datasetCreateCommand,
  },
  'dataset list': {
    usage: 'keel dataset list',
    positionals: [],
    options: ['json'],
    load: async () => (await import('./commands/dataset.ts')).datasetListCommand,
  },
  'dataset show': {
    usage: 'keel dataset show NAME',
    positionals: ['NAME'],
    options: ['json'],
    load: async () => (await import('./commands/dataset.ts')).datasetShowCommand,
  },
  'dataset export': {
    usage: 'keel dataset export NAME --format jsonl|openai-chat --out FILE',
    positionals: ['NAME'],
    options: ['format', 'out'],
    load: async () => (await import('./commands/dataset.ts')).datasetExportCommand,
  },
  label: {
    usage: 'keel label RUN --score 0..1 [--note "…"] [--as NAME]',
    positionals: ['RUN'],
    options: ['json', 'score', 'note', 'as'],
    load: async () => (await import('./commands/label.ts')).labelCommand,
  },
  'eval run': {
    usage:
      'keel eval run --dataset NAME --model P:M [--baseline-model P:M | --baseline-run RUN] [--scorer exact,…] [--judge P:M] [--margin X] [--effect-size X] [--config PATH] [--json] [--out FILE]',
    positionals: [],
    options: [...serving, 'dataset', 'baseline-model', 'baseline-run', 'scorer', 'judge', 'margin', 'effect-size', 'out'],
    load: async () => (await import('./commands/eval.ts')).evalRunCommand,
  },
  'audit verify': {
    usage: 'keel audit verify [--public-key PATH] [--strict]',
    positionals: [],
    options: ['json', 'public-key', 'strict'],
    load: async () => (await import('./commands/audit-verify.ts')).auditVerifyCommand,
  },
  'audit prove': {
    usage: 'keel audit prove RUN [--json]',
    positionals: ['RUN'],
    options: ['json'],
    load: async () => (await import('./commands/audit-prove.ts')).auditProveCommand,
  },
  'telemetry export': {
    usage: 'keel telemetry export [--once]  (OTEL_EXPORTER_OTLP_ENDPOINT names the receiver)',
    positionals: [],
    options: ['once'],
    load: async () => (await import('./commands/telemetry.ts')).telemetryExportCommand,
  },
  'evidence export': {
    usage: 'keel evidence export --from DATE --to DATE --out DIR [--public-key PATH] [--config PATH] [--policies DIR]',
    positionals: [],
    options: ['json', 'from', 'to', 'out', 'public-key', 'config', 'policies'],
    load: async () => (await import('./commands/evidence.ts')).evidenceExportCommand,
  },
  'evidence verify': {
    usage: 'keel evidence verify DIR [--public-key PATH] [--strict] [--json]',
    positionals: ['DIR'],
    options: ['json', 'public-key', 'strict'],
    load: async () => (await import('./commands/evidence.ts')).evidenceVerifyCommand,
  },
  redact: {
    usage: 'keel redact --subject ID [--reason "…"] [--as NAME] [--json]',
    positionals: [],
    options: ['json', 'subject', 'reason', 'as'],
    load: async () => (await import('./commands/redact.ts')).redactCommand,
  },
  'retention apply': {
    usage: 'keel retention apply [--config PATH] [--dry-run] [--json]',
    positionals: [],
    options: ['json', 'config', 'dry-run'],
    load: async () => (await import('./commands/retention.ts')).retentionApplyCommand,
  },
  'audit keygen': {
    usage: 'keel audit keygen --out DIR',
    positionals: [],
    options: ['out'],
    load: async () => (await import('./commands/audit-keygen.ts')).auditKeygenCommand,
  },
};

const everywhere: OptionName[] = ['db'];
const seedRange = { min: 0, max: 4_294_967_295 };
const limitRange = { min: 1, max: 1_000_000_000 };
const concurrencyRange = { min: 1, max: 10_000 };
const portRange = { min: 0, max: 65_535 };
const countRange = { min: 1, max: 100_000 };

/**
 * Refuses, in one line, whatever a command would otherwise ignore: arguments it does not take,
 * options it does not use, and numbers it could not use. Runs before anything is loaded or opened.
 */
export function checkArguments(name: string, entry: CommandEntry, positionals: string[], values: Partial<Record<OptionName, string | boolean | string[]>>): void {
  // `keel stop` takes RUN or --all; stop.ts says so when it gets neither or both.
  const required = name === 'stop' ? 0 : entry.positionals.length;
  if (positionals.length > entry.positionals.length) {
    const extra = positionals.slice(entry.positionals.length).map((value) => JSON.stringify(value)).join(' ');
    const takes = entry.positionals.length === 0 ? 'takes no arguments' : `takes ${entry.positionals.join(' ')} only`;
    throw new KeelError('usage-invalid', `keel ${name} ${takes}; got ${extra} (usage: ${entry.usage}${entry.note === undefined ? '' : `; ${entry.note}`})`);
  }
  if (positionals.length < required) {
    throw new KeelError('usage-invalid', `keel ${name} needs ${entry.positionals.slice(positionals.length).join(' ')} (usage: ${entry.usage})`);
  }
  for (const option of optionNames) {
    if (values[option] === undefined || everywhere.includes(option) || entry.options.includes(option)) continue;
    throw new KeelError('usage-invalid', `keel ${name} does not take --${option} (usage: ${entry.usage})`);
  }
  if (typeof values.seed === 'string') checkWholeNumber('seed', values.seed, seedRange);
  if (typeof values.limit === 'string') checkWholeNumber('limit', values.limit, limitRange);
  if (typeof values.concurrency === 'string') checkWholeNumber('concurrency', values.concurrency, concurrencyRange);
  if (typeof values.port === 'string') checkWholeNumber('port', values.port, portRange);
  if (typeof values.count === 'string') checkWholeNumber('count', values.count, countRange);
  if (typeof values['metrics-port'] === 'string') checkWholeNumber('metrics-port', values['metrics-port'], portRange);
  if (typeof values.runs === 'string') checkWholeNumber('runs', values.runs, { min: 1, max: 1_000 });
}

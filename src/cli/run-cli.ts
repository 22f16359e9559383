import { KeelError } from '../errors/index.ts';
import type { CliOutput, CommandContext } from './command.ts';
import { checkArguments, commandTable } from './command-table.ts';
import { painter } from './format/text.ts';

// Not an ES import: importing node:util builds its namespace, which loads worker_threads and
// util's diff into every CLI start (docs/architecture.md, CLI start-up).
const { parseArgs } = process.getBuiltinModule('node:util');

export const usage = `keel: the production harness for LLM agents

usage: keel COMMAND [options]

commands:
  run TASK --input JSON    start a run of a served task and execute it here   [--principal P] [--tenant T]
  run TASK --enqueue       open the run for a worker; print its id
  worker                   serve runs until SIGTERM/SIGINT: claim queued runs, take over orphans   [--concurrency N]
                           [--metrics-port N [--host H]] Prometheus metrics at /metrics (keel serve: always)
  serve                    the OpenAI- and Anthropic-compatible gateway; every request a journaled run   [--port 8787] [--host 127.0.0.1]
                           keys required once any exists, or [--require-keys]; [--allow-anonymous] off loopback
                           [--access-log] a JSON line per request on stdout as its response ends
                           [--policies DIR] Cedar (keel.cedarschema, *.cedar) decides call-model on every request
  mcp-proxy --config PATH  an MCP server fronting the config's upstream MCP servers over stdio; every call
                       decided by policy, rate-limited, approval-gated and journaled, a run per session
                       [--http [--port 8788] [--host 127.0.0.1]] serves Streamable HTTP at /mcp instead
  demo                 run the support-agent demo end to end (creates the database if needed)
                       [--count N]: N varied, seeded support requests instead of the five
  runs                 list runs: id, task, status, steps, tokens, time   [--status S] [--limit N]
                       [--tag NAME=VALUE]… only the runs carrying every tag given (project=search)
                       [--since T] [--until T] only the runs created from T (included) to T (excluded),
                       ISO-8601 with its zone (2026-11-30T00:00Z, 2026-11-30T09:00+01:00), as keel spend
  show RUN             print a run's journal as a timeline, and check its hash chain
                       [--html PATH: a drill's or an evaluation's report as a page]
  resume               resume every run of a served task that is not in an end state
  replay RUN           rebuild a run's model inputs from its journal; exit 1 at the first byte that differs
  replay RUN --model P:M   re-run it against another model, tools answered from the journal;
                       exit 1 when its status or output differs from the recorded run
  escalations          runs waiting, durably, for a person's decision
  approve RUN          approve what the run waits for; it resumes          [--as NAME] [--reason …]
  deny RUN --reason …  deny it; the run ends failed with the reason         [--as NAME]
  stop RUN | --all     halt runs in a safe state within 2 s, journaled      [--reason …]
  audit verify         check every run's hash chain and the signed audit log; exits 1 naming each bad run
                       [--public-key PATH] (or KEEL_CONFIG's audit.publicKeyFile, KEEL_AUDIT_PUBLIC_KEY_FILE) [--strict]
  audit prove RUN      the run's latest audit leaf, its inclusion proof and the signed tree head
  audit keygen --out DIR   write an Ed25519 key pair for signing tree heads (private key 0600)
  keys create --tenant T --principal P   a gateway key; its secret is printed once
                       [--budget-micros N --per run|day|month] [--models a,b] [--rpm N] [--tpm N] [--expires-in 30d]
  drill TASK --fault F  run the task under a fault (retrieval-down, malformed-output, provider-timeout,
                       rate-limit-storm, stream-cut, tool-down, budget-exhausted, schema-drift, compromised-model,
                       store-outage);
                       judge it, alert, journal the report as run drill:TASK   [--runs N] [--html PATH] [--json]
  keys list | keys revoke KEY   the gateway's keys (never their secrets); refuse one from now on
  keys rotate KEY      a new secret for a live key, printed once; the old one is refused from now on
  spend                what runs spent, most costly first   [--since T] [--until T] [--by tenant|principal|task|tag:NAME]
  dataset create NAME --task T   pin recorded runs (or their model/tool decisions) under a content hash
                       [--kind run|model-call|tool-call] [--status S,…] [--since 30d] [--where label=good] [--limit N]
  dataset list | show NAME | export NAME --format jsonl|openai-chat --out FILE
  label RUN --score 0..1   a person's label of a run, recorded as its own run   [--note …] [--as NAME]
  eval run --dataset NAME --model P:M   replay the dataset against a model, score it, and say whether it
                       regressed (exit 1), improved, shows no evidence of a change, or is inconclusive
                       [--baseline-model P:M | --baseline-run RUN] [--scorer exact,contract,tools,…] [--judge P:M]
  evidence export --from DATE --to DATE --out DIR   a self-contained bundle of the period's journals, signed
                       tree heads and proofs, snapshots, approvals, retention and record-keeping statements,
                       and verify.mjs (plain Node)   [--public-key PATH] [--config PATH] [--policies DIR]
  evidence verify DIR  check a bundle as its verify.mjs does   [--public-key PATH] [--strict] [--json]
  redact --subject ID  destroy the subject's key: every field sealed for it reads as redacted, and every
                       chain and tree head still verifies; journaled   [--reason …] [--as NAME] [--json]
  retention apply      delete ended runs older than the config's retention.runs (e.g. "180d") after journaling
                       a signed retention record; keel worker does it on a schedule   [--dry-run] [--json]
  telemetry export     send the journal's spans over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT) from a cursor
                       kept in the store, until SIGTERM/SIGINT   [--once]

options:
  --tasks PATH         the module whose agents and tasks this process serves (or KEEL_TASKS, or the
                       config file's "tasks"); without one, the demo's tasks are served
  --db PATH|URL        SQLite file (default .keel/keel.db, or KEEL_DB) or postgres:// URL
  --json               print one JSON document on stdout
  --config PATH        routes, prices, budgets, SLAs and alerts (or KEEL_CONFIG); checked at start
  --model NAME         provider:model: the demo's model (default sim:default), or replay's candidate
  --seed N             demo simulator seed (default 7)
  -h, --help           this help

exit codes:
  0  done; for run: the run ended ok or degraded, or waits for a person
  1  failed; for run: the run ended failed or escalated; for replay: it differs
  2  bad usage (unknown command or option, bad --input JSON)
  70 internal error
`;

export interface RunCliOptions {
  output?: CliOutput;
  environment?: NodeJS.ProcessEnv;
  colour?: boolean;
}

/** Runs one `keel` invocation and returns its exit code. User errors are one line, never a stack. */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<number> {
  const output = options.output ?? { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
  const environment = options.environment ?? process.env;
  try {
    const { values, positionals } = parseCommandLine(argv);
    if (values.help === true || positionals.length === 0) {
      output.stdout(usage);
      return positionals.length === 0 && values.help !== true ? 2 : 0;
    }
    const [first = '', second] = positionals;
    if (first === 'audit' && second === undefined) throw new KeelError('usage-invalid', 'keel audit needs a sub-command: keel audit verify, prove or keygen');
    if (first === 'keys' && second === undefined) throw new KeelError('usage-invalid', 'keel keys needs a sub-command: keel keys create, list, revoke or rotate');
    if (first === 'dataset' && second === undefined) throw new KeelError('usage-invalid', 'keel dataset needs a sub-command: keel dataset create, list, show or export');
    if (first === 'eval' && second === undefined) throw new KeelError('usage-invalid', 'keel eval needs a sub-command: keel eval run');
    if (first === 'telemetry' && second === undefined) throw new KeelError('usage-invalid', 'keel telemetry needs a sub-command: keel telemetry export');
    if (first === 'retention' && second === undefined) throw new KeelError('usage-invalid', 'keel retention needs a sub-command: keel retention apply');
    if (first === 'evidence' && second === undefined) throw new KeelError('usage-invalid', 'keel evidence needs a sub-command: keel evidence export or verify');
    const name = first === 'audit' || first === 'keys' || first === 'telemetry' || first === 'dataset' || first === 'eval' || first === 'evidence' || first === 'retention' ? `${first} ${second}` : first;
    const entry = Object.hasOwn(commandTable, name) ? commandTable[name] : undefined;
    if (entry === undefined) throw new KeelError('usage-invalid', `unknown command '${name}' (try keel --help)`);
    const commandPositionals = positionals.slice(name.split(' ').length);
    // Everything is checked before the command is loaded: a usage error costs no module and opens nothing.
    checkArguments(name, entry, commandPositionals, values);
    const command = await entry.load();
    const context: CommandContext = {
      positionals: commandPositionals,
      options: {
        db: values.db,
        json: values.json === true,
        model: values.model,
        seed: values.seed,
        status: values.status,
        limit: values.limit,
        config: values.config,
        reason: values.reason,
        as: values.as,
        all: values.all === true,
        tasks: values.tasks,
        input: values.input,
        principal: values.principal,
        tenant: values.tenant,
        concurrency: values.concurrency,
        enqueue: values.enqueue === true,
        port: values.port,
        host: values.host,
        publicKey: values['public-key'],
        strict: values.strict === true,
        out: values.out,
        requireKeys: values['require-keys'] === true,
        allowAnonymous: values['allow-anonymous'] === true,
        accessLog: values['access-log'] === true,
        budgetMicros: values['budget-micros'],
        per: values.per,
        models: values.models,
        rpm: values.rpm,
        tpm: values.tpm,
        expiresIn: values['expires-in'],
        http: values.http === true,
        once: values.once === true,
        metricsPort: values['metrics-port'],
        fault: values.fault,
        runs: values.runs,
        html: values.html,
        task: values.task,
        since: values.since,
        until: values.until,
        by: values.by,
        where: values.where,
        kind: values.kind,
        format: values.format,
        score: values.score,
        note: values.note,
        dataset: values.dataset,
        baselineModel: values['baseline-model'],
        baselineRun: values['baseline-run'],
        scorer: values.scorer,
        judge: values.judge,
        count: values.count,
        margin: values.margin,
        effectSize: values['effect-size'],
        from: values.from,
        to: values.to,
        policies: values.policies,
        subject: values.subject,
        dryRun: values['dry-run'] === true,
        tag: values.tag ?? [],
      },
      output,
      paint: painter(options.colour ?? (process.stdout.isTTY && environment.NO_COLOR === undefined)),
      environment,
    };
    return await command(context);
  } catch (error) {
    if (error instanceof KeelError) {
      output.stderr(`keel: error [${error.code}]: ${error.message.split('\n')[0]}\n`);
      return error.code === 'usage-invalid' ? 2 : 1;
    }
    // Not a user error: say so in one line; the stack is there for whoever asks.
    const message = error instanceof Error ? error.message : String(error);
    output.stderr(`keel: internal error: ${message.split('\n')[0]} (set KEEL_DEBUG=1 for the stack)\n`);
    if (environment.KEEL_DEBUG === '1' && error instanceof Error && error.stack !== undefined) output.stderr(`${error.stack}\n`);
    return 70;
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        db: { type: 'string' },
        json: { type: 'boolean' },
        model: { type: 'string' },
        seed: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        config: { type: 'string' },
        reason: { type: 'string' },
        as: { type: 'string' },
        all: { type: 'boolean' },
        tasks: { type: 'string' },
        input: { type: 'string' },
        principal: { type: 'string' },
        tenant: { type: 'string' },
        concurrency: { type: 'string' },
        enqueue: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        'public-key': { type: 'string' },
        strict: { type: 'boolean' },
        out: { type: 'string' },
        'require-keys': { type: 'boolean' },
        'allow-anonymous': { type: 'boolean' },
        'access-log': { type: 'boolean' },
        'budget-micros': { type: 'string' },
        per: { type: 'string' },
        models: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'expires-in': { type: 'string' },
        http: { type: 'boolean' },
        once: { type: 'boolean' },
        'metrics-port': { type: 'string' },
        fault: { type: 'string' },
        runs: { type: 'string' },
        html: { type: 'string' },
        task: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        by: { type: 'string' },
        where: { type: 'string' },
        kind: { type: 'string' },
        format: { type: 'string' },
        score: { type: 'string' },
        note: { type: 'string' },
        dataset: { type: 'string' },
        'baseline-model': { type: 'string' },
        'baseline-run': { type: 'string' },
        scorer: { type: 'string' },
        judge: { type: 'string' },
        count: { type: 'string' },
        margin: { type: 'string' },
        'effect-size': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        policies: { type: 'string' },
        subject: { type: 'string' },
        'dry-run': { type: 'boolean' },
        tag: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new KeelError('usage-invalid', `${error instanceof Error ? error.message.split('\n')[0] : String(error)} (try keel --help)`);
  }
}

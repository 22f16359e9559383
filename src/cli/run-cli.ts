import { parseArgs } from 'node:util';
import { KeelError } from '../errors/index.ts';
import type { CliOutput, Command, CommandContext } from './command.ts';
import { auditVerifyCommand } from './commands/audit-verify.ts';
import { approveCommand, denyCommand } from './commands/decide.ts';
import { demoCommand } from './commands/demo.ts';
import { escalationsCommand } from './commands/escalations.ts';
import { stopCommand } from './commands/stop.ts';
import { replayCommand } from './commands/replay.ts';
import { resumeCommand } from './commands/resume.ts';
import { runsCommand } from './commands/runs.ts';
import { showCommand } from './commands/show.ts';
import { painter } from './format/text.ts';

export const usage = `keel: the production harness for LLM agents

usage: keel COMMAND [options]

commands:
  demo                 run the support-agent demo end to end (creates the database if needed)
  runs                 list runs: id, task, status, steps, tokens, time   [--status S] [--limit N]
  show RUN             print a run's journal as a timeline, and check its hash chain
  resume               resume every run that is not in an end state
  replay RUN           rebuild a run's model inputs from its journal; exit 1 at the first byte that differs
  replay RUN --model P:M   re-run it against another model, tools answered from the journal
  escalations          runs waiting, durably, for a person's decision
  approve RUN          approve what the run waits for; it resumes          [--as NAME] [--reason …]
  deny RUN --reason …  deny it; the run ends failed with the reason         [--as NAME]
  stop RUN | --all     halt runs in a safe state within 2 s, journaled      [--reason …]
  audit verify         check every run's hash chain; exits 1 naming the first bad event

options:
  --db PATH|URL        SQLite file (default .keel/keel.db, or KEEL_DB) or postgres:// URL
  --json               print one JSON document on stdout
  --config PATH        routes, prices, budgets, SLAs and alerts (or KEEL_CONFIG); checked at start
  --model NAME         provider:model: the demo's model (default sim:default), or replay's candidate
  --seed N             demo simulator seed (default 7)
  -h, --help           this help
`;

const commands: Record<string, Command> = {
  demo: demoCommand,
  runs: runsCommand,
  show: showCommand,
  resume: resumeCommand,
  replay: replayCommand,
  escalations: escalationsCommand,
  approve: approveCommand,
  deny: denyCommand,
  stop: stopCommand,
  'audit verify': auditVerifyCommand,
};

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
    const name = first === 'audit' ? `audit ${second ?? ''}`.trim() : first;
    const command = commands[name];
    if (command === undefined) throw new KeelError('usage-invalid', `unknown command '${name}' (try keel --help)`);
    const context: CommandContext = {
      positionals: positionals.slice(name.split(' ').length),
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
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new KeelError('usage-invalid', `${error instanceof Error ? error.message.split('\n')[0] : String(error)} (try keel --help)`);
  }
}

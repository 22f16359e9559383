import type { Painter } from './format/text.ts';

export interface CliOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface CommandContext {
  positionals: string[];
  options: {
    db: string | undefined;
    json: boolean;
    model: string | undefined;
    seed: string | undefined;
    status: string | undefined;
    limit: string | undefined;
    config: string | undefined;
    reason: string | undefined;
    as: string | undefined;
    all: boolean;
    tasks: string | undefined;
    input: string | undefined;
    principal: string | undefined;
    tenant: string | undefined;
    concurrency: string | undefined;
    enqueue: boolean;
    port: string | undefined;
    host: string | undefined;
    publicKey: string | undefined;
    strict: boolean;
    out: string | undefined;
    requireKeys: boolean;
    allowAnonymous: boolean;
    accessLog: boolean;
    budgetMicros: string | undefined;
    per: string | undefined;
    models: string | undefined;
    rpm: string | undefined;
    tpm: string | undefined;
    expiresIn: string | undefined;
    http: boolean;
    once: boolean;
    metricsPort: string | undefined;
    fault: string | undefined;
    runs: string | undefined;
    html: string | undefined;
    task: string | undefined;
    since: string | undefined;
    until: string | undefined;
    by: string | undefined;
    where: string | undefined;
    kind: string | undefined;
    format: string | undefined;
    score: string | undefined;
    note: string | undefined;
    dataset: string | undefined;
    baselineModel: string | undefined;
    baselineRun: string | undefined;
    scorer: string | undefined;
    judge: string | undefined;
    count: string | undefined;
    margin: string | undefined;
    effectSize: string | undefined;
    from: string | undefined;
    to: string | undefined;
    policies: string | undefined;
    subject: string | undefined;
    dryRun: boolean;
    /** Every --tag given (repeatable), in order; empty when none. */
    tag: string[];
  };
  output: CliOutput;
  paint: Painter;
  environment: NodeJS.ProcessEnv;
}

/** A `keel` sub-command: writes to `output` and returns the exit code. */
export type Command = (context: CommandContext) => Promise<number>;

export function printJson(context: CommandContext, value: unknown): void {
  context.output.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

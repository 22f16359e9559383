import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeelError } from '../../errors/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { printJson } from '../command.ts';

/** A date (`2026-11-01`, taken as midnight UTC) or an ISO-8601 time; one line naming the option when it is neither. */
function parseMoment(value: string | undefined, option: string): Date {
  if (value === undefined) throw new KeelError('usage-invalid', `keel evidence export needs --${option} DATE (2026-11-01, or an ISO-8601 time)`);
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value;
  const moment = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(moment.getTime())) throw new KeelError('usage-invalid', `--${option} ${value} is not a date: give 2026-11-01 or an ISO-8601 time`);
  return moment;
}

function readPublicKey(context: CommandContext): string | undefined {
  const path = context.options.publicKey ?? context.environment.KEEL_AUDIT_PUBLIC_KEY_FILE;
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeelError('usage-invalid', `cannot read the public key ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
  }
}

function producer(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string };
  return `keel ${manifest.version ?? 'unknown'}`;
}

/** `keel evidence export`: reads the store, writes only the bundle's directory. */
export const evidenceExportCommand: Command = async (context) => {
  const from = parseMoment(context.options.from, 'from');
  const to = parseMoment(context.options.to, 'to');
  if (context.options.out === undefined) throw new KeelError('usage-invalid', 'keel evidence export needs --out DIR: a new or empty directory for the bundle');
  const publicKeyPem = readPublicKey(context);
  const snapshots = [context.options.config ?? context.environment.KEEL_CONFIG, context.options.policies].filter((path): path is string => path !== undefined);
  const { exportEvidence } = await import('../../evidence/index.ts');
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const summary = await exportEvidence({ store, from, to, out: resolve(context.options.out), producer: producer(), snapshots, ...(publicKeyPem === undefined ? {} : { publicKeyPem }) });
    if (context.options.json) {
      printJson(context, { database: store.location, ...summary });
      return 0;
    }
    context.output.stdout(
      `wrote ${summary.out}: ${summary.runs} runs, ${summary.events} events, ${summary.leaves} audit leaves, ${summary.treeHeads} signed tree heads, ${summary.approvals} approvals and decisions` +
        `${summary.unanchoredRuns > 0 ? ` (${summary.unanchoredRuns} runs have events after their last anchor)` : ''}\n` +
        `check it anywhere with: node ${join(summary.out, 'verify.mjs')} ${summary.out} --public-key audit-public-key.pem\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
};

/** `keel evidence verify DIR`: the bundle's own verifier, run here. Reads only. */
export const evidenceVerifyCommand: Command = async (context) => {
  const [directory] = context.positionals;
  if (directory === undefined) throw new KeelError('usage-invalid', 'usage: keel evidence verify DIR');
  const publicKeyPem = readPublicKey(context);
  const { verifyBundle } = await import('../../evidence/index.ts');
  let verdict;
  try {
    verdict = verifyBundle(resolve(directory), { strict: context.options.strict, ...(publicKeyPem === undefined ? {} : { publicKeyPem }) });
  } catch (error) {
    throw new KeelError('usage-invalid', `cannot read the evidence bundle in ${directory}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
  }
  if (context.options.json) {
    printJson(context, verdict);
    return verdict.ok ? 0 : 1;
  }
  for (const failure of verdict.failures) context.output.stderr(`keel: evidence failed: ${failure}\n`);
  for (const warning of verdict.warnings) context.output.stderr(`keel: note: ${warning}\n`);
  const { summary } = verdict;
  context.output.stdout(
    `${verdict.ok ? 'verified' : 'NOT verified'}: ${summary.runs} runs, ${summary.events} events, ${summary.leaves} audit leaves, ${summary.treeHeads} signed tree heads` +
      `${summary.signaturesChecked ? ` (signatures checked with key ${summary.keyId})` : ' (signatures not checked)'}; period ${summary.period.from} to ${summary.period.to}\n`,
  );
  return verdict.ok ? 0 : 1;
};

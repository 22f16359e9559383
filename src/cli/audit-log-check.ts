/**
 * The audit log's part of `keel audit verify` (src/audit/verify-audit-log.ts): the public key is
 * found before the store is opened, so a bad path costs nothing; the findings are printed after
 * the hash chains'. Without a public key the signatures are not checked, and the report says so
 * on every run: the rest still verifies, and exits 0 when it holds.
 */
import type { AuditVerdict, VerifyingKey } from '../audit/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { CommandContext } from './command.ts';
import { count } from './format/text.ts';

/**
 * --public-key, else the config's `audit.publicKeyFile` (KEEL_CONFIG: read commands take no
 * --config), else KEEL_AUDIT_PUBLIC_KEY_FILE.
 */
export async function loadAuditVerifyingKey(context: CommandContext): Promise<VerifyingKey | undefined> {
  const { openVerifyingKey } = await import('../audit/audit-settings.ts');
  const configPath = context.environment.KEEL_CONFIG;
  const config = context.options.publicKey !== undefined || configPath === undefined ? undefined : (await import('../config/index.ts')).loadConfig(configPath);
  return openVerifyingKey(context.options.publicKey, config?.audit, context.environment);
}

export interface AuditLogCheck {
  ok: boolean;
  /** Runs named by a failure (for the count of runs that do not verify). */
  failedRuns: Set<string>;
  /** Failures of the log itself, not of one run. */
  logFailures: number;
  report: {
    kept: boolean;
    leaves: number;
    treeHeads: number;
    treeSize: number;
    signaturesChecked: boolean;
    unanchoredRuns: string[];
    failures: { runId?: string; problem: string }[];
  };
  print: () => void;
}

export async function checkAuditLog(context: CommandContext, store: StoreV1, verifyingKey: VerifyingKey | undefined): Promise<AuditLogCheck> {
  const { verifyAuditLog } = await import('../audit/verify-audit-log.ts');
  const verdict: AuditVerdict = await verifyAuditLog(store, verifyingKey === undefined ? {} : { verifyingKey });
  const failures = [...verdict.failures];
  if (context.options.strict && verdict.unanchored.length > 0) {
    for (const run of verdict.unanchored) failures.push({ runId: run.runId, problem: `run ${run.runId} has events after its last anchor (through event ${run.seq}) and --strict was given` });
  }
  const failedRuns = new Set(failures.flatMap((failure) => (failure.runId === undefined ? [] : [failure.runId])));
  const report = {
    kept: verdict.kept,
    leaves: verdict.leaves,
    treeHeads: verdict.treeHeads,
    treeSize: verdict.latest?.treeSize ?? 0,
    signaturesChecked: verdict.signaturesChecked,
    unanchoredRuns: verdict.unanchored.map((run) => run.runId),
    failures,
  };
  const print = () => {
    for (const failure of failures) context.output.stderr(`keel: audit failed: ${failure.problem}\n`);
    if (!verdict.kept) {
      context.output.stdout(`audit log: the store at ${store.location} keeps none\n`);
      return;
    }
    const signatures = verdict.signaturesChecked
      ? 'every signature checked'
      : 'signatures NOT checked: no public key (give --public-key PATH, KEEL_AUDIT_PUBLIC_KEY_FILE, or audit.publicKeyFile in the KEEL_CONFIG file)';
    context.output.stdout(`audit log: ${count(verdict.leaves)} leaves under ${count(verdict.treeHeads)} signed tree heads (tree size ${report.treeSize}); ${signatures}\n`);
    if (verdict.unanchored.length > 0) context.output.stdout(`audit log: ${count(verdict.unanchored.length)} runs have events not yet anchored (not a failure without --strict)\n`);
  };
  return { ok: failures.length === 0, failedRuns, logFailures: failures.length - failures.filter((failure) => failure.runId !== undefined).length, report, print };
}

import type { DrillReport } from '../../drill/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { EvaluationReport } from '../../evaluation/index.ts';
import type { JournalEvent } from '../../journal/index.ts';
import { parseEvent } from '../../journal/parse.ts';
import { verifyChain } from '../../journal/verify.ts';
import { openSealedFieldsIn } from '../../redaction/open-sealed-fields.ts';
import { openStore } from '../../store/open-store.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { describeEvent } from '../format/describe-event.ts';
import { count, micros, paintStatus, table } from '../format/text.ts';
import { runSummary } from './runs.ts';

export const showCommand: Command = async (context) => {
  const [runId, ...extra] = context.positionals;
  if (runId === undefined || extra.length > 0) throw new KeelError('usage-invalid', 'usage: keel show RUN [--json] [--html PATH]');
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const run = await store.getRun(runId);
    if (run === undefined) throw new KeelError('run-not-found', `no run ${runId} in ${store.location} (list them with \`keel runs\`)`);
    const records = await store.readJournal(runId);
    const verdict = verifyChain(records);
    // Verified on the stored form; shown with sealed fields opened, or marked redacted.
    const opened = await openSealedFieldsIn(store, records);
    if (context.options.html !== undefined) return await writeReportHtml(context.options.html, run.task, opened.map(parseEvent), verdict.ok, (line) => context.output.stdout(line));
    if (context.options.json) {
      printJson(context, { run: runSummary(run), chain: verdict, events: opened });
      return 0;
    }
    // A journal that does not verify is still shown (that is when people need to read it), flagged.
    const events = opened.map(parseEvent);
    const { paint } = context;
    const start = Date.parse(records[0]?.time ?? run.createdAt);
    context.output.stdout(
      `${paint('bold', run.id)} · ${run.task} v${run.taskVersion} · ${paintStatus(paint, run.status)} · ${run.principal} · tenant ${run.tenant} · ${run.stepCount} steps · ${count(run.inputTokens + run.outputTokens)} tokens · ${micros(run.costMicros)}\n`,
    );
    if (run.reason !== null) context.output.stdout(`reason: ${run.reason}\n`);
    if (run.tags !== undefined) context.output.stdout(`tags: ${Object.entries(run.tags).map(([name, value]) => `${name}=${value}`).join(', ')}\n`);
    context.output.stdout('\n');
    const rows = events.map((event) => [paint('dim', `#${event.seq}`), paint('dim', `+${Date.parse(event.time) - start}ms`), paint('cyan', event.type), describeEvent(event)]);
    context.output.stdout(`${table(rows)}\n\n`);
    context.output.stdout(
      verdict.ok
        ? paint('green', `hash chain verified: ${verdict.events} events, head ${verdict.lastHash.slice(0, 16)}\n`)
        : paint('red', `hash chain BROKEN at event ${verdict.seq} (${verdict.type}): ${verdict.problem}\n`),
    );
    return verdict.ok ? 0 : 1;
  } finally {
    await store.close();
  }
};

/**
 * `keel show RUN --html PATH`: a drill's or an evaluation's report, read back from its run's
 * verified journal (a scheduled drill in `keel worker` writes no page of its own), as the page
 * `keel drill --html` or `keel eval run` writes. Only the page is written; the database is not.
 */
async function writeReportHtml(path: string, task: string, events: JournalEvent[], verified: boolean, say: (line: string) => void): Promise<number> {
  if (!verified) throw new KeelError('journal-invalid', `the journal of this ${task} run does not verify; no report is printed from it (keel show RUN says where it breaks)`);
  const end = events.at(-1);
  const output = end?.type === 'run-end' && end.data.status === 'ok' ? end.data.output : undefined;
  let html: string;
  if (task.startsWith('drill:') && output !== undefined) html = (await import('../../drill/index.ts')).drillReportHtml(output as unknown as DrillReport);
  else if (task.startsWith('eval:') && output !== undefined) html = (await import('../../evaluation/index.ts')).renderHtmlReport(output as unknown as EvaluationReport);
  else throw new KeelError('usage-invalid', `--html prints the report of a finished drill:TASK or eval:DATASET run; this run is ${task}${end?.type === 'run-end' ? `, ended ${end.data.status}` : ', not ended'}`);
  // Not an ES import of node:fs, which every start would pay for (docs/architecture.md, CLI start-up).
  process.getBuiltinModule('node:fs').writeFileSync(path, html);
  say(`wrote ${path}\n`);
  return 0;
}

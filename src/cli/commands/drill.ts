import { writeFileSync } from 'node:fs';
import type { KeelConfig } from '../../config/index.ts';
import { drillFaultNames, drillReportHtml, isDrillFaultName, runDrill } from '../../drill/index.ts';
import type { DrillReport } from '../../drill/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { JsonValue } from '../../spec/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { printJson } from '../command.ts';
import { demoDrillRequest, demoPlantedCall, servedAgent } from '../served-agent.ts';

const usage = 'usage: keel drill TASK --fault F [--runs N] [--json] [--html PATH] [--input JSON] [--principal P] [--tenant T]';


/**
 * `keel drill TASK --fault F`: runs the served agent under one fault at one seam, judges what the
 * system did against the task's contracts, raises the alerts the monitor finds (journaled, and
 * delivered to the config's webhooks), and journals the report as a run of `drill:TASK`. Exit 0 when
 * every expectation holds, 1 otherwise.
 */
export const drillCommand: Command = async (context) => {
  const [task] = context.positionals;
  if (task === undefined) throw new KeelError('usage-invalid', usage);
  const fault = context.options.fault;
  if (fault === undefined) throw new KeelError('usage-invalid', `keel drill needs --fault (one of ${drillFaultNames.join(', ')})`);
  if (!isDrillFaultName(fault)) throw new KeelError('usage-invalid', `unknown fault '${fault}' (known: ${drillFaultNames.join(', ')})`);
  const runs = context.options.runs === undefined ? 1 : Number(context.options.runs);
  const message = parseMessage(context.options.input);
  const { environment } = context;
  const configPath = context.options.config ?? environment.KEEL_CONFIG;
  const config: KeelConfig | undefined = configPath === undefined ? undefined : (await import('../../config/index.ts')).loadConfig(configPath);
  const served = await servedAgent(context, task, config);
  try {
    const { webhookAlertHook } = await import('../../config/index.ts');
    const hooks = (config?.alerts?.webhooks ?? []).map(webhookAlertHook);
    const store = await openStore({ database: context.options.db, create: true, environment });
    let report: DrillReport;
    try {
      const demo = served.demo;
      report = await runDrill({
        agent: served.agent,
        fault,
        runs,
        store,
        environment,
        hooks,
        message: message ?? (demo ? demoDrillRequest.message : 'Hello.'),
        principal: context.options.principal ?? (demo ? demoDrillRequest.principal : 'keel:drill'),
        tenant: context.options.tenant ?? (demo ? demoDrillRequest.tenant : 'default'),
        ...(demo ? { planted: demoPlantedCall } : {}),
        ...(config === undefined ? {} : { config }),
      });
    } finally {
      await store.close();
    }
    if (context.options.html !== undefined) writeFileSync(context.options.html, drillReportHtml(report));
    if (context.options.json) printJson(context, report);
    else printReport(context, report);
    return report.pass ? 0 : 1;
  } finally {
    served.close();
  }
};

function parseMessage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new KeelError('usage-invalid', `--input is not valid JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const message = typeof value === 'object' && value !== null && !Array.isArray(value) ? value.message : undefined;
  if (typeof message !== 'string' || message.trim() === '') throw new KeelError('usage-invalid', '--input must be an agent input such as {"message": "…"}');
  return message;
}

function printReport(context: CommandContext, report: DrillReport): void {
  const { paint } = context;
  const verdict = report.pass ? paint('green', 'PASS') : paint('red', 'FAIL');
  context.output.stdout(`${paint('bold', `drill ${report.fault}`)} on ${report.task}: ${verdict}  (${report.seam} seam: ${report.description})\n`);
  for (const run of report.runs) context.output.stdout(`  run     ${run.runId}  ${run.status}${run.reason === null ? '' : `  ${run.reason}`}\n`);
  for (const alert of report.alerts) context.output.stdout(`  alert   ${alert.kind}  ${alert.message}  (delivered ${alert.delivered}/${report.hooks})\n`);
  for (const line of report.logged) context.output.stdout(`  logged  ${line.runId}#${line.seq} ${line.type}: ${line.line}\n`);
  for (const item of report.expectations) context.output.stdout(`  ${item.pass ? paint('green', 'pass') : paint('red', 'fail')}    ${item.name}: ${item.actual}${item.pass ? '' : ` (expected ${item.expected})`}\n`);
  context.output.stdout(`report journaled as run ${report.reportRunId} (keel show ${report.reportRunId})\n`);
}

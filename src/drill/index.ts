/**
 * Failure drills (docs/drills-and-monitoring.md): run a task with a fault at one of its seams
 * (model, tool, retriever, budget, store), judge what the system did against the task's declared
 * contracts, raise the alerts the monitor finds, and journal the report as a run of `drill:<task>`.
 */
export { drillFaultNames, drillFaults, isDrillFaultName } from './drill-faults.ts';
export type { DrillFault, DrillFaultName, DrillSeam } from './drill-faults.ts';
export type { DrillAlert, DrillExpectation, DrillLogLine, DrillReport, DrillRun } from './drill-report.ts';
export { runDrill } from './run-drill.ts';
export type { DrillOptions } from './run-drill.ts';
export { drillReportHtml } from './report-html.ts';

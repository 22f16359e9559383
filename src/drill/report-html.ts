import type { DrillReport } from './drill-report.ts';

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function rows(cells: string[][]): string {
  return cells.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n');
}

/** The drill report as one self-contained HTML page (no scripts, no external resources). */
export function drillReportHtml(report: DrillReport): string {
  const verdict = report.pass ? 'PASS' : 'FAIL';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keel drill ${escape(report.fault)} on ${escape(report.task)}: ${verdict}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}.pass{color:#070}.fail{color:#b00}code{font-size:12px}</style></head>
<body>
<h1>Drill <code>${escape(report.fault)}</code> on <code>${escape(report.task)}</code>: <span class="${report.pass ? 'pass' : 'fail'}">${verdict}</span></h1>
<p>${escape(report.description)} (seam: ${escape(report.seam)}; targets: ${escape(report.targets.join(', '))}). Started ${escape(report.startedAt)}, ${report.durationMs} ms. Journaled as run <code>${escape(report.reportRunId)}</code>.</p>
<h2>Expectations</h2>
<table><tr><th>Expectation</th><th>Expected</th><th>Actual</th><th>Verdict</th></tr>
${report.expectations.map((item) => `<tr><td>${escape(item.name)}</td><td>${escape(item.expected)}</td><td>${escape(item.actual)}</td><td class="${item.pass ? 'pass' : 'fail'}">${item.pass ? 'pass' : 'fail'}</td></tr>`).join('\n')}
</table>
<h2>What the system did</h2>
<table><tr><th>Run</th><th>Status</th><th>Reason</th></tr>
${rows(report.runs.map((run) => [run.runId, run.status, run.reason ?? '']))}
</table>
<h2>What it alerted (${report.hooks} hook(s))</h2>
<table><tr><th>Kind</th><th>About</th><th>Message</th><th>Delivered</th></tr>
${rows(report.alerts.map((alert) => [alert.kind, alert.about, alert.message, `${alert.delivered}/${report.hooks}${alert.failed.length === 0 ? '' : `; ${alert.failed.join('; ')}`}`]))}
</table>
<h2>What it logged</h2>
<table><tr><th>Run</th><th>Seq</th><th>Event</th><th>Line</th></tr>
${rows(report.logged.map((line) => [line.runId, String(line.seq), line.type, line.line]))}
</table>
</body></html>
`;
}

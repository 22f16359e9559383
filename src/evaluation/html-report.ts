/**
 * The evaluation's HTML report: one self-contained page (inline SVG, no script, nothing fetched)
 * with the verdict, the score distributions of candidate and baseline, every item's difference,
 * and the confidence interval against zero and the margin.
 */
import type { EvaluationReport, ItemResult, SpendTotals } from './evaluate.ts';
import type { VerdictReport } from './paired-statistics.ts';

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

const width = 640;

/** Histograms of the primary score, candidate against baseline, in ten bins over [0, 1]. */
function distributions(items: ItemResult[], scorer: string): string {
  const bins = (subject: 'candidate' | 'baseline') => {
    const counts = Array.from({ length: 10 }, () => 0);
    for (const item of items) {
      const score = item[subject][scorer] ?? 0;
      counts[Math.min(9, Math.floor(score * 10))] = (counts[Math.min(9, Math.floor(score * 10))] ?? 0) + 1;
    }
    return counts;
  };
  const candidate = bins('candidate');
  const baseline = bins('baseline');
  const most = Math.max(1, ...candidate, ...baseline);
  const height = 160;
  const bars = candidate
    .map((count, bin) => {
      const x = 40 + bin * 58;
      const baseHeight = ((baseline[bin] ?? 0) / most) * (height - 30);
      const candidateHeight = (count / most) * (height - 30);
      return (
        `<rect x="${x}" y="${height - 20 - baseHeight}" width="26" height="${baseHeight}" fill="#9aa5b1"><title>baseline ${bin / 10}–${(bin + 1) / 10}: ${baseline[bin] ?? 0}</title></rect>` +
        `<rect x="${x + 27}" y="${height - 20 - candidateHeight}" width="26" height="${candidateHeight}" fill="#2f6fde"><title>candidate ${bin / 10}–${(bin + 1) / 10}: ${count}</title></rect>` +
        `<text x="${x + 26}" y="${height - 5}" font-size="10" text-anchor="middle">${(bin / 10).toFixed(1)}</text>`
      );
    })
    .join('');
  return `<svg role="img" aria-label="score distributions" width="${width}" height="${height}">${bars}</svg><p class="legend"><span style="color:#9aa5b1">■</span> baseline <span style="color:#2f6fde">■</span> candidate (${escape(scorer)}, items per bin)</p>`;
}

/** Each item's candidate − baseline, sorted, as bars around zero. */
function deltas(items: ItemResult[], scorer: string): string {
  const values = items.map((item) => ({ item: item.item, delta: (item.candidate[scorer] ?? 0) - (item.baseline[scorer] ?? 0) })).sort((left, right) => left.delta - right.delta);
  const height = 140;
  const middle = height / 2;
  const step = (width - 40) / Math.max(1, values.length);
  const bars = values
    .map((value, index) => {
      const barHeight = Math.abs(value.delta) * (middle - 10);
      const y = value.delta < 0 ? middle : middle - barHeight;
      return `<rect x="${20 + index * step}" y="${y}" width="${Math.max(1, step - 0.5)}" height="${Math.max(0.5, barHeight)}" fill="${value.delta < 0 ? '#d64545' : value.delta > 0 ? '#2e9e5b' : '#c5ccd3'}"><title>${escape(value.item)}: ${value.delta.toFixed(2)}</title></rect>`;
    })
    .join('');
  return `<svg role="img" aria-label="per-item differences" width="${width}" height="${height}"><line x1="20" x2="${width - 20}" y1="${middle}" y2="${middle}" stroke="#333"/>${bars}</svg>`;
}

/** The interval of the mean difference on a line from −1 to 1, with zero and the margin marked. */
function interval(statistics: VerdictReport): string {
  const x = (value: number) => 20 + ((value + 1) / 2) * (width - 40);
  const height = 70;
  const y = 35;
  const colour = statistics.verdict === 'regressed' ? '#d64545' : statistics.verdict === 'improved' ? '#2e9e5b' : '#2f6fde';
  return (
    `<svg role="img" aria-label="confidence interval" width="${width}" height="${height}">` +
    `<line x1="${x(-1)}" x2="${x(1)}" y1="${y}" y2="${y}" stroke="#c5ccd3"/>` +
    `<line x1="${x(0)}" x2="${x(0)}" y1="10" y2="60" stroke="#333"/><text x="${x(0)}" y="9" font-size="10" text-anchor="middle">0</text>` +
    (statistics.margin > 0 ? `<line x1="${x(-statistics.margin)}" x2="${x(-statistics.margin)}" y1="15" y2="55" stroke="#999" stroke-dasharray="3"/>` : '') +
    `<line x1="${x(statistics.interval.lower)}" x2="${x(statistics.interval.upper)}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="6"/>` +
    `<circle cx="${x(statistics.meanDifference)}" cy="${y}" r="5" fill="#111"/>` +
    `<text x="${x(-1)}" y="65" font-size="10">−1</text><text x="${x(1)}" y="65" font-size="10" text-anchor="end">+1</text></svg>`
  );
}

/** Integer micro-USD as dollars, to the micro-dollar. */
export function dollars(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(6)}`;
}

/** What each subject's calls spent, and what the recorded runs had cost. */
function spending(costs: EvaluationReport['costs'] | undefined): string {
  // Reports journaled before costs were counted have none.
  if (costs === undefined) return '';
  const row = (who: string, spend: SpendTotals | null, note: string) =>
    spend === null ? '' : `<tr><td>${who}</td><td>${spend.calls}</td><td>${spend.inputTokens}</td><td>${spend.outputTokens}</td><td>${dollars(spend.micros)}</td><td>${note}</td></tr>`;
  return (
    `<h2>Cost</h2><table><tr><th>calls of</th><th>calls</th><th>input tokens</th><th>output tokens</th><th>cost</th><th></th></tr>` +
    row('candidate', costs.candidate, 'spent by this evaluation') +
    row('baseline', costs.baseline, 'spent by this evaluation (baseline re-run)') +
    row('judge', costs.judge, 'spent by this evaluation') +
    `<tr><th>total</th><td></td><td></td><td></td><th>${dollars(costs.totalMicros)}</th><td>spent by this evaluation</td></tr>` +
    `<tr><td>recorded runs</td><td></td><td colspan="2">${costs.recorded.tokens} tokens</td><td>${dollars(costs.recorded.micros)}</td><td>what the recorded runs cost when they ran (not spent again)</td></tr></table>`
  );
}

export function renderHtmlReport(report: EvaluationReport): string {
  const statistics = report.statistics as unknown as VerdictReport;
  const items = report.items as unknown as ItemResult[];
  const rows = Object.entries(report.scorers)
    .map(([name, means]) => `<tr><td>${escape(name)}</td><td>${means.baselineMean.toFixed(3)}</td><td>${means.candidateMean.toFixed(3)}</td></tr>`)
    .join('');
  const judge = report.judge as { model?: string; rubric?: string; rubricVersion?: string; agreement?: { items: number; kappa: number | null; sensitivity: number | null; specificity: number | null } | null } | null;
  const agreement = judge?.agreement;
  const judgeText =
    judge === null
      ? ''
      : `<h2>Judge</h2><p>${escape(judge.model ?? '')}, rubric ${escape(judge.rubric ?? '')} v${escape(judge.rubricVersion ?? '')}: ${
          agreement === null || agreement === undefined
            ? 'no labelled items to measure its agreement on'
            : `agreement with ${agreement.items} human labels: κ ${agreement.kappa?.toFixed(3) ?? 'n/a'}, sensitivity ${agreement.sensitivity?.toFixed(3) ?? 'n/a'}, specificity ${agreement.specificity?.toFixed(3) ?? 'n/a'}`
        }</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keel evaluation ${escape(report.evaluation)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:720px;color:#111}h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.6rem}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #e3e6e9;text-align:left}.verdict{font-weight:700}.legend{font-size:12px;color:#555}</style>
</head><body>
<h1>Evaluation ${escape(report.evaluation)}: <span class="verdict">${escape(report.verdict)}</span></h1>
<p>Dataset <b>${escape(report.dataset)}</b> (content ${escape(report.contentHash.slice(0, 16))}…), candidate <b>${escape(report.candidate)}</b> against baseline <b>${escape(report.baseline)}</b>, verdict on <b>${escape(report.primaryScorer)}</b>.</p>
<p>${escape(statistics.reason)}.</p>
<table><tr><th>items</th><td>${statistics.items} in ${statistics.clusters} clusters</td></tr>
<tr><th>mean difference</th><td>${statistics.meanDifference.toFixed(4)}</td></tr>
<tr><th>${Math.round(statistics.interval.level * 100)}% interval (cluster bootstrap, ${statistics.resamples} resamples)</th><td>[${statistics.interval.lower.toFixed(4)}, ${statistics.interval.upper.toFixed(4)}]</td></tr>
<tr><th>minimum detectable effect</th><td>${statistics.minimumDetectableEffect.toFixed(4)} (effect of interest ${statistics.effectOfInterest})</td></tr>
<tr><th>divergences</th><td>${report.divergences} (tool calls the recorded runs never made; not executed)</td></tr></table>
<h2>Confidence interval of candidate − baseline</h2>${interval(statistics)}
<h2>Score distributions</h2>${distributions(items, report.primaryScorer)}
<h2>Per-item differences</h2>${deltas(items, report.primaryScorer)}
<h2>Scorers</h2><table><tr><th>scorer</th><th>baseline</th><th>candidate</th></tr>${rows}</table>
${judgeText}
${spending(report.costs)}
</body></html>
`;
}

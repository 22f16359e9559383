import { api } from '../api.js';
import { h, notice, pageLink, replace } from '../dom.js';
import { count, money, time } from '../format.js';
import { failure } from './common.js';

const groupings = [
  ['tenant', 'Tenant'],
  ['principal', 'Principal'],
  ['task', 'Task'],
  ['tag', 'Tag'],
];
const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day a time falls on, as a date input writes it: 2026-12-03. */
function dayOf(date) {
  return date.toISOString().slice(0, 10);
}

/** A UTC month, first day to last, `offset` months from the one `now` is in. */
function month(now, offset) {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset + 1, 0));
  return { from: dayOf(first), to: dayOf(last) };
}

/** The day's date parts, or undefined when it is no day of the calendar (2026-02-30). */
function calendarDay(text) {
  const match = dayPattern.exec(text);
  if (match === null) return undefined;
  const [year, monthNumber, day] = match.slice(1).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, monthNumber - 1, day);
  return date.getUTCMonth() === monthNumber - 1 && date.getUTCDate() === day ? date : undefined;
}

/**
 * The period as the API takes it: From's day from its start, To's day to its end (the next day's
 * start, as `until` is not included). Text that is not a day of the calendar (a hand-edited
 * address) is sent as it is, so the API's answer says what is wrong with it.
 */
function apiPeriod(from, to) {
  const period = {};
  if (from !== '') period.since = calendarDay(from) === undefined ? from : `${from}T00:00:00.000Z`;
  if (to !== '') {
    const end = calendarDay(to);
    if (end === undefined) period.until = to;
    else {
      end.setUTCDate(end.getUTCDate() + 1);
      period.until = end.toISOString();
    }
  }
  return period;
}

/** The page's address for a period and grouping: what is shown is in the address, so it can be shared and reloaded. */
function spendPath(from, to, by) {
  return `/spend?${new URLSearchParams({ from, to, by })}`;
}

function cells(row) {
  return [
    h('td', { class: 'number' }, count(row.runs)),
    h('td', { class: 'number cost' }, money(row.costMicros)),
    h('td', { class: 'number' }, count(row.inputTokens)),
    h('td', { class: 'number' }, count(row.outputTokens)),
  ];
}

/**
 * The run list of a row's runs: the report's period with the row's tenant, task or tag value, as
 * the admin API selects them. None for a principal, which the run list cannot select by, nor for
 * the runs without the tag.
 */
function runsPath(report, row) {
  if (row.group === null || report.by === 'principal') return undefined;
  const filter = report.by === 'tag' ? ['tag', `${report.tag}=${row.group}`] : [report.by, row.group];
  return `/runs?${new URLSearchParams([['since', report.since], ['until', report.until], filter])}`;
}

/** The report as a table: one row per group (the runs without the tag are "(none)"), most costly first, and the total. */
function reportTable(report) {
  const grouping = report.by === 'tag' ? `tag ${report.tag}` : report.by;
  const heading = report.by === 'tag' ? `Tag ${report.tag}` : (groupings.find(([value]) => value === report.by)?.[1] ?? report.by);
  return h(
    'table',
    { class: 'spend' },
    h('caption', {}, `Spend by ${grouping} of the runs created from ${time(report.since)} until ${time(report.until)} UTC, most costly first`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, heading), ['Runs', 'Cost', 'Input tokens', 'Output tokens'].map((name) => h('th', { scope: 'col', class: 'number' }, name)))),
    h(
      'tbody',
      {},
      report.rows.map((row) =>
        h(
          'tr',
          { class: row.group === null ? 'no-group' : null },
          h('th', { scope: 'row' }, row.group === null ? h('span', { class: 'none', title: `runs without the tag ${report.tag}` }, '(none)') : runsPath(report, row) === undefined ? row.group : pageLink(runsPath(report, row), row.group)),
          cells(row),
        ),
      ),
    ),
    h('tfoot', {}, h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'Total'), cells(report.total))),
  );
}

/**
 * Spend: what the runs created in a period cost, by tenant, principal, task or a tag's value
 * (GET /admin/spend), for chargeback. The period is whole UTC days, both included; by default this
 * UTC month. A refused period or grouping shows the API's own message beside the form.
 */
export function renderSpend(main, { query }) {
  const now = new Date();
  const defaults = month(now, 0);
  const previous = month(now, -1);
  const from = query.get('from') ?? defaults.from;
  const to = query.get('to') ?? defaults.to;
  const by = query.get('by') ?? 'tenant';
  const tagged = by.startsWith('tag:');

  const fromInput = h('input', { id: 'spend-from', name: 'from', type: 'date', value: from });
  const toInput = h('input', { id: 'spend-to', name: 'to', type: 'date', value: to });
  const grouping = h(
    'select',
    { id: 'spend-by', name: 'by', onchange: () => showTagField() },
    groupings.map(([value, label]) => h('option', { value, selected: tagged ? value === 'tag' : value === by }, label)),
  );
  const tagInput = h('input', { id: 'spend-tag', name: 'tag', type: 'text', value: tagged ? by.slice('tag:'.length) : '', placeholder: 'project', size: 16, autocomplete: 'off', spellcheck: 'false' });
  const tagField = h('label', { class: 'tag-field' }, 'Tag name ', tagInput);
  const result = h('div', { class: 'spend-result' });
  const form = h(
    'form',
    { class: 'toolbar spend-form', onsubmit: (event) => show(event) },
    h('label', {}, 'From ', fromInput),
    h('label', {}, 'To ', toInput),
    h('label', {}, 'Group by ', grouping),
    tagField,
    h('button', { type: 'submit' }, 'Show'),
    h('span', { class: 'quick' }, pageLink(spendPath(defaults.from, defaults.to, by), 'This month'), pageLink(spendPath(previous.from, previous.to, by), 'Last month')),
  );
  replace(main, h('h1', {}, 'Spend'), h('p', { class: 'hint' }, 'What the runs created in the period cost, in UTC days (both included), summed from the run index: a running run’s totals may lag by about a second.'), form, result);
  showTagField();

  function showTagField() {
    tagField.hidden = grouping.value !== 'tag';
  }

  function show(event) {
    event.preventDefault();
    const chosen = grouping.value === 'tag' ? `tag:${tagInput.value.trim()}` : grouping.value;
    const hash = `#${spendPath(fromInput.value, toInput.value, chosen)}`;
    // The same address again fires no hashchange: asked again here, for the latest figures.
    if (hash === location.hash) void load();
    else location.hash = hash;
  }

  let latest = 0;
  async function load() {
    const asked = ++latest;
    for (const name of ['since', 'until', 'by']) delete result.dataset[name];
    replace(result, h('p', { class: 'loading' }, 'Loading…'));
    try {
      const report = await api(`/spend?${new URLSearchParams({ ...apiPeriod(from, to), by })}`);
      if (asked !== latest) return;
      // The period and grouping the figures are for, as the API answered them (for scripts and tests reading the page).
      Object.assign(result.dataset, { since: report.since, until: report.until, by: report.by === 'tag' ? `tag:${report.tag}` : report.by });
      replace(result, report.rows.length === 0 ? notice('ok', `No runs were created from ${time(report.since)} until ${time(report.until)} UTC.`) : reportTable(report));
    } catch (error) {
      if (asked === latest) replace(result, failure(error));
    }
  }
  void load();
}

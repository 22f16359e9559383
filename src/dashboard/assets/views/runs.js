import { api } from '../api.js';
import { h, notice, pageLink, replace, runLink, statusBadge, tagChips } from '../dom.js';
import { count, money, time } from '../format.js';
import { failure } from './common.js';

const statuses = ['queued', 'running', 'waiting', 'ok', 'degraded', 'escalated', 'failed'];

/**
 * The admin API's filters the list takes from its address besides status, as a Spend row links
 * to it (#/runs?since=…&until=…&tenant=acme, or tag=project=search, repeatable): passed to the API
 * as they are, so a refused one shows the API's message.
 */
function addressFilters(query) {
  const filters = new URLSearchParams();
  for (const name of ['since', 'until', 'tenant', 'task']) if (query.get(name) !== null) filters.set(name, query.get(name));
  for (const tag of query.getAll('tag')) filters.append('tag', tag);
  return filters;
}

/** What the filters keep, as text: created from … until … UTC, tenant acme, tag project=search. */
function describeFilters(filters) {
  const parts = [];
  const since = filters.get('since');
  const until = filters.get('until');
  if (since !== null || until !== null) parts.push(`created ${since === null ? '' : `from ${time(since)} `}${until === null ? '' : `until ${time(until)} `}UTC`);
  for (const name of ['tenant', 'task']) if (filters.get(name) !== null) parts.push(`${name} ${filters.get(name)}`);
  for (const tag of filters.getAll('tag')) parts.push(`tag ${tag}`);
  return parts.join(', ');
}

/** Runs, newest first, filtered by status (and by what a Spend row links with); a run id typed in the search box opens that run. */
export function renderRuns(main, { query }) {
  const status = statuses.includes(query.get('status')) ? query.get('status') : '';
  const filters = addressFilters(query);
  const filtered = filters.size > 0;
  const address = (chosen) => {
    const parameters = new URLSearchParams(filters);
    if (chosen !== '') parameters.set('status', chosen);
    return parameters.size === 0 ? '#/runs' : `#/runs?${parameters}`;
  };
  const filter = h('select', { id: 'status-filter', 'aria-label': 'Status', onchange: () => (location.hash = address(filter.value)) }, h('option', { value: '' }, 'every status'), statuses.map((value) => h('option', { value, selected: value === status }, value)));
  const search = h('input', { id: 'run-search', type: 'search', placeholder: 'run_… id', 'aria-label': 'Run id' });
  const searchMessage = h('div', { class: 'message' });
  const searchForm = h('form', { class: 'search', onsubmit: (event) => void find(event) }, search, h('button', { type: 'submit' }, 'Open run'));
  const rows = h('tbody', {});
  const more = h('div', { class: 'more' });
  replace(
    main,
    h('h1', {}, 'Runs'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Show ', filter), searchForm),
    filtered ? h('p', { class: 'hint run-filters' }, h('span', { class: 'filters' }, `Only runs ${describeFilters(filters)}.`), ' ', pageLink(status === '' ? '/runs' : `/runs?status=${status}`, 'Show every run')) : null,
    searchMessage,
    h('table', { class: 'runs' }, h('thead', {}, h('tr', {}, ['Run', 'Task', 'Status', 'For', 'Tenant', 'Steps', 'Tokens', 'Cost', 'Started'].map((heading) => h('th', {}, heading)))), rows),
    more,
  );

  async function find(event) {
    event.preventDefault();
    const id = search.value.trim();
    if (id === '') return;
    try {
      await api(`/runs/${encodeURIComponent(id)}`);
      location.hash = `#/runs/${encodeURIComponent(id)}`;
    } catch (error) {
      replace(searchMessage, error.status === 404 ? notice('error', `No run ${id}.`) : failure(error));
    }
  }

  async function load(after) {
    const parameters = new URLSearchParams(filters);
    parameters.set('limit', '50');
    if (status !== '') parameters.set('status', status);
    if (after !== undefined) parameters.set('after', after);
    try {
      const page = await api(`/runs?${parameters}`);
      for (const run of page.runs) {
        rows.append(h('tr', { 'data-run-id': run.id }, h('td', {}, runLink(run.id)), h('td', {}, run.task, tagChips(run.tags, 3)), h('td', {}, statusBadge(run.status)), h('td', {}, run.principal), h('td', {}, run.tenant), h('td', { class: 'number' }, String(run.steps)), h('td', { class: 'number' }, count(run.tokens.total)), h('td', { class: 'number' }, money(run.costMicros)), h('td', {}, time(run.createdAt))));
      }
      if (rows.children.length === 0) replace(more, notice('ok', filtered ? `No ${status === '' ? '' : `${status} `}runs ${describeFilters(filters)}.` : status === '' ? 'No runs yet.' : `No ${status} runs.`));
      else if (page.next === null) replace(more);
      else replace(more, h('button', { type: 'button', onclick: () => void load(page.next) }, 'Load more'));
    } catch (error) {
      replace(more, failure(error));
    }
  }
  void load(undefined);
}

import { api } from '../api.js';
import { h, notice, replace, runLink, statusBadge, tagChips } from '../dom.js';
import { count, money, time } from '../format.js';
import { failure } from './common.js';

const statuses = ['queued', 'running', 'waiting', 'ok', 'degraded', 'escalated', 'failed'];

/** Runs, newest first, filtered by status; a run id typed in the search box opens that run. */
export function renderRuns(main, { query }) {
  const status = statuses.includes(query.get('status')) ? query.get('status') : '';
  const filter = h('select', { id: 'status-filter', 'aria-label': 'Status', onchange: () => (location.hash = filter.value === '' ? '#/runs' : `#/runs?status=${filter.value}`) }, h('option', { value: '' }, 'every status'), statuses.map((value) => h('option', { value, selected: value === status }, value)));
  const search = h('input', { id: 'run-search', type: 'search', placeholder: 'run_… id', 'aria-label': 'Run id' });
  const searchMessage = h('div', { class: 'message' });
  const searchForm = h('form', { class: 'search', onsubmit: (event) => void find(event) }, search, h('button', { type: 'submit' }, 'Open run'));
  const rows = h('tbody', {});
  const more = h('div', { class: 'more' });
  replace(
    main,
    h('h1', {}, 'Runs'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Show ', filter), searchForm),
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
    const parameters = new URLSearchParams({ limit: '50' });
    if (status !== '') parameters.set('status', status);
    if (after !== undefined) parameters.set('after', after);
    try {
      const page = await api(`/runs?${parameters}`);
      for (const run of page.runs) {
        rows.append(h('tr', { 'data-run-id': run.id }, h('td', {}, runLink(run.id)), h('td', {}, run.task, tagChips(run.tags, 3)), h('td', {}, statusBadge(run.status)), h('td', {}, run.principal), h('td', {}, run.tenant), h('td', { class: 'number' }, String(run.steps)), h('td', { class: 'number' }, count(run.tokens.total)), h('td', { class: 'number' }, money(run.costMicros)), h('td', {}, time(run.createdAt))));
      }
      if (rows.children.length === 0) replace(more, notice('ok', status === '' ? 'No runs yet.' : `No ${status} runs.`));
      else if (page.next === null) replace(more);
      else replace(more, h('button', { type: 'button', onclick: () => void load(page.next) }, 'Load more'));
    } catch (error) {
      replace(more, failure(error));
    }
  }
  void load(undefined);
}

import { api, session } from '../api.js';
import { h, notice, replace, statusBadge, tagChips } from '../dom.js';
import { count, isEnded, json, money, time } from '../format.js';
import { chainStatus, timeline } from '../timeline.js';
import { failure, poll } from './common.js';
import { decisionForm } from './decision.js';

/**
 * One run: what it is and where it stands, what it waits for (with the buttons to decide), a
 * stop button while it is open, its hash chain's verdict and the timeline of its journal. While
 * the run is open the page follows it, redrawn whenever the run changes.
 */
export function renderRun(main, { params }) {
  const [runId] = params;
  const path = `/runs/${encodeURIComponent(runId)}`;
  let shown;
  let stopDecision = () => {};
  replace(main, h('h1', {}, h('code', {}, runId)), h('p', { class: 'loading' }, 'Loading…'));

  async function draw() {
    const [{ run, approval }, journal] = await Promise.all([api(path), api(`${path}/journal`)]);
    shown = `${run.updatedAt}/${run.status}`;
    stopDecision();
    const form = run.status === 'waiting' && approval !== null ? decisionForm(run.id) : undefined;
    stopDecision = form?.stop ?? (() => {});
    const stopMessage = h('div', { class: 'message' });
    const stopButton = isEnded(run.status) ? null : h('button', { type: 'button', class: 'stop', onclick: () => void stop(stopButton, stopMessage) }, 'Stop run');
    const totalCost = journal.events.reduce((sum, event) => sum + (event.type === 'step-end' ? (event.data.cost?.micros ?? 0) : 0), 0);
    replace(
      main,
      h('h1', {}, h('code', {}, run.id), ' ', statusBadge(run.status)),
      run.reason === null ? null : h('p', { class: 'reason' }, run.reason),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Task'),
        h('dd', {}, `${run.task} v${run.taskVersion}`),
        h('dt', {}, 'For'),
        h('dd', {}, `${run.principal} (tenant ${run.tenant})`),
        h('dt', {}, 'Tags'),
        h('dd', { class: 'run-tags' }, tagChips(run.tags) ?? h('span', { class: 'hint' }, 'none')),
        h('dt', {}, 'Steps'),
        h('dd', {}, String(run.steps)),
        h('dt', {}, 'Tokens'),
        h('dd', {}, `${count(run.tokens.input)} in, ${count(run.tokens.output)} out`),
        h('dt', {}, 'Cost'),
        h('dd', { class: 'total-cost' }, `${money(run.costMicros)} (model calls in the journal: ${money(totalCost)})`),
        h('dt', {}, 'Started'),
        h('dd', {}, time(run.createdAt)),
        h('dt', {}, 'Last change'),
        h('dd', {}, time(run.updatedAt)),
      ),
      approval === null ? null : h('section', { class: 'card escalation' }, h('h2', {}, `Waiting for a decision: ${approval.reason}`), h('pre', {}, json(approval.details)), form?.element),
      stopButton === null ? null : h('div', { class: 'toolbar' }, stopButton, stopMessage),
      chainStatus(journal.chain),
      h('h2', {}, `Timeline (${journal.events.length} events)`),
      timeline(journal.events),
    );
    return run;
  }

  async function stop(button, message) {
    button.disabled = true;
    try {
      const result = await api(`${path}/stop`, { method: 'POST', body: { as: session.name, reason: 'stopped from the dashboard' } });
      replace(message, notice('ok', result.alreadyEnded ? 'The run had already ended.' : `Stop requested; the run is ${result.run.status}.`));
      await draw();
    } catch (error) {
      replace(message, failure(error));
      button.disabled = false;
    }
  }

  let stopPolling = () => {};
  void (async () => {
    try {
      const run = await draw();
      if (isEnded(run.status)) return;
      stopPolling = poll(async () => {
        const { run: now } = await api(path);
        if (`${now.updatedAt}/${now.status}` !== shown) await draw();
        return !isEnded(now.status);
      }, 1_000);
    } catch (error) {
      replace(main, h('h1', {}, h('code', {}, runId)), error.status === 404 ? notice('error', `No run ${runId}.`) : failure(error));
    }
  })();
  return () => {
    stopPolling();
    stopDecision();
  };
}

import { api } from '../api.js';
import { h, notice, replace, runLink } from '../dom.js';
import { json, money, time } from '../format.js';
import { failure } from './common.js';
import { decisionForm } from './decision.js';

/** The escalation queue: every run waiting for a person, with what it asks and the buttons to decide. */
export function renderEscalations(main) {
  const followers = [];
  replace(main, h('h1', {}, 'Waiting for a decision'), h('p', { class: 'loading' }, 'Loading…'));
  void (async () => {
    try {
      const { escalations } = await api('/escalations');
      const list = escalations.map(({ run, approval }) => {
        const form = decisionForm(run.id);
        followers.push(form.stop);
        return h(
          'article',
          { class: 'card escalation', 'data-run-id': run.id },
          h('h2', {}, approval.reason),
          h(
            'dl',
            { class: 'facts' },
            h('dt', {}, 'Run'),
            h('dd', {}, runLink(run.id)),
            h('dt', {}, 'Task'),
            h('dd', {}, run.task),
            h('dt', {}, 'For'),
            h('dd', {}, `${run.principal} (tenant ${run.tenant})`),
            h('dt', {}, 'Waiting since'),
            h('dd', {}, time(approval.requestedAt)),
            h('dt', {}, 'Spent so far'),
            h('dd', {}, money(run.costMicros)),
          ),
          h('details', { open: true }, h('summary', {}, 'What it asks to do'), h('pre', {}, json(approval.details))),
          form.element,
        );
      });
      replace(main, h('h1', {}, 'Waiting for a decision'), list.length === 0 ? notice('ok', 'No run is waiting for a decision.') : list);
    } catch (error) {
      replace(main, h('h1', {}, 'Waiting for a decision'), failure(error));
    }
  })();
  return () => followers.forEach((stop) => stop());
}

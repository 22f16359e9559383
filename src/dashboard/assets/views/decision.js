import { api, session } from '../api.js';
import { h, notice, replace, runLink, statusBadge } from '../dom.js';
import { isEnded } from '../format.js';
import { failure, poll } from './common.js';

/**
 * Approve or deny what a run waits for, with a reason (required to deny). Once decided, the form
 * gives way to the decision and the run's status, followed until the run ends.
 * Returns the element and a function that stops following the run.
 */
export function decisionForm(runId) {
  let stopFollowing = () => {};
  const reason = h('textarea', { name: 'reason', rows: 2, placeholder: 'Reason (required to deny; recorded in the journal)', 'aria-label': 'Reason' });
  const approve = h('button', { type: 'button', class: 'approve', onclick: () => void decide('approve') }, 'Approve');
  const deny = h('button', { type: 'button', class: 'deny', onclick: () => void decide('deny') }, 'Deny');
  const message = h('div', { class: 'message' });
  const element = h('div', { class: 'decision' }, reason, h('div', { class: 'buttons' }, approve, deny), message);

  async function decide(decision) {
    const text = reason.value.trim();
    if (decision === 'deny' && text === '') {
      replace(message, notice('error', 'Say why the run is denied: the reason is recorded with the decision.'));
      reason.focus();
      return;
    }
    approve.disabled = true;
    deny.disabled = true;
    try {
      const result = await api(`/runs/${encodeURIComponent(runId)}/${decision}`, { method: 'POST', body: { as: session.name, ...(text === '' ? {} : { reason: text }) } });
      showDecided(result);
      // The count of waiting runs beside Escalations is one less now.
      window.dispatchEvent(new Event('keel-decided'));
    } catch (error) {
      replace(message, failure(error));
      approve.disabled = false;
      deny.disabled = false;
    }
  }

  function showDecided(result) {
    const status = h('span', { class: 'run-status' }, statusBadge(result.run.status));
    const where = h('span', { class: 'hint' }, result.continued === 'here' ? '' : ' (queued: the next worker serving its task continues it)');
    replace(
      element,
      notice('ok', `${result.decision.decider} ${result.decision.decision === 'approve' ? 'approved' : 'denied'} `, runLink(runId), '. The run is now ', status, where),
    );
    element.classList.add('decided');
    if (isEnded(result.run.status)) return;
    stopFollowing = poll(async () => {
      const { run } = await api(`/runs/${encodeURIComponent(runId)}`);
      replace(status, statusBadge(run.status));
      if (isEnded(run.status)) replace(where);
      return !isEnded(run.status);
    }, 500);
  }

  return { element, stop: () => stopFollowing() };
}

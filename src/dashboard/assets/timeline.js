// A run's journal as a timeline: one row per event, said in words, with its data underneath.
import { h, statusBadge } from './dom.js';
import { brief, count, duration, json, money } from './format.js';

const stepKinds = { 'model-call': 'model', 'tool-call': 'tool', approval: 'approval' };

/** What one event says: its kind (for its colour), a title, and a detail line when there is one. */
function describe(event) {
  const data = event.data ?? {};
  switch (event.type) {
    case 'run-start':
      return { kind: 'run', title: `Run started: ${data.task} v${data.taskVersion} for ${data.principal} (tenant ${data.tenant})`, detail: `input ${brief(data.input, 300)}` };
    case 'run-resume':
      return { kind: 'run', title: `Worker ${data.worker} ${data.found === 'new' ? 'began' : 'took the run over'} (attempt ${data.attempt})` };
    case 'step-start':
      return { kind: stepKinds[data.kind] ?? 'step', title: `Step ${data.step}: ${data.kind} ${data.name} started${data.attempt > 1 ? ` (attempt ${data.attempt})` : ''}`, detail: data.input === undefined ? undefined : `input ${brief(data.input, 300)}` };
    case 'step-end': {
      const outcome = data.outcome ?? {};
      const usage = data.usage === undefined ? '' : `, ${count(data.usage.inputTokens)} in / ${count(data.usage.outputTokens)} out tokens`;
      return {
        kind: stepKinds[data.kind] ?? 'step',
        title: `Step ${data.step}: ${data.name} ${outcome.ok ? 'ended ok' : `failed: ${outcome.error?.message ?? ''}`} in ${duration(data.durationMs ?? 0)}${usage}`,
        detail: outcome.ok && outcome.value !== undefined ? `result ${brief(outcome.value, 300)}` : undefined,
        cost: data.cost?.micros,
      };
    }
    case 'route-decision':
      return { kind: 'model', title: `Route ${data.route} chose ${data.provider}:${data.modelId}`, detail: `${data.reason}; about ${count(data.estimatedInputTokens)} prompt tokens` };
    case 'budget-decision':
      return { kind: 'cost', title: `Budget ${data.outcome} ${money(data.reservedMicros)} for ${data.provider}:${data.modelId}`, detail: data.reason ?? data.scope };
    case 'model-attempt-end':
      return { kind: 'model', title: `Model call to ${data.provider}:${data.modelId}, attempt ${data.attempt}: ${data.outcome} in ${duration(data.latencyMs ?? 0)}`, detail: data.error?.message ?? (data.usage === undefined ? undefined : `${count(data.usage.inputTokens)} in / ${count(data.usage.outputTokens)} out tokens`) };
    case 'retry-wait':
      return { kind: 'model', title: `Waited ${duration(data.waitMs ?? 0)} before attempt ${data.attempt + 1} (${data.reason})` };
    case 'breaker-transition':
      return { kind: 'model', title: `Breaker ${data.breaker}: ${data.from} → ${data.to}` };
    case 'model-fallback':
      return { kind: 'model', title: `Fell back from ${data.from} to ${data.to}`, detail: data.reason };
    case 'alert-raise':
      return { kind: 'cost', title: `Alert (${data.kind}) on ${data.scope}`, detail: data.message };
    case 'policy-decision':
      return { kind: 'policy', title: `Policy: ${data.effect} ${data.action} on ${data.resource}${data.tool === undefined ? '' : ` (tool ${data.tool})`}`, detail: `${data.reason}${data.policyIds?.length ? ` [${data.policyIds.join(', ')}]` : ''}` };
    case 'output-validation':
      return { kind: 'policy', title: `Output checked against ${data.contract}@${data.version}: ${data.ok ? 'valid' : 'invalid'}`, detail: data.violations?.length ? data.violations.map((violation) => `${violation.path}: ${violation.message}`).join('; ') : undefined };
    case 'failure-decision':
      return { kind: 'policy', title: `Failure contract at ${data.point}: ${data.kind} → ${data.action}`, detail: data.detail };
    case 'loop-guard':
      return { kind: 'policy', title: `Loop guard ${data.guard} (limit ${data.limit}): ${data.action}`, detail: data.detail };
    case 'request-receive':
      return { kind: 'run', title: `Request on ${data.api} for ${data.model}${data.stream ? ', streamed' : ''}, from ${data.principal}${data.key === undefined ? '' : ` with key ${data.key}`}` };
    case 'approval-request':
      return { kind: 'approval', title: `Approval requested: ${data.reason}`, detail: brief(data.details, 300) };
    case 'human-decision':
      return { kind: 'approval', title: `${data.decider} ${data.decision === 'approve' ? 'approved' : data.decision === 'deny' ? 'denied' : 'stopped the run'}`, detail: data.reason };
    case 'context-assembly':
      return { kind: 'step', title: `Context assembled (manifest ${String(data.manifestHash ?? '').slice(0, 12)})` };
    case 'retrieval-signal':
      return { kind: 'step', title: `Retrieval: ${data.kind}`, detail: data.detail };
    case 'fault-injection':
      return { kind: 'step', title: `Simulator fault injected into call ${data.call}`, detail: brief(data.fault) };
    case 'checkpoint':
      return { kind: 'step', title: `Checkpoint ${data.label} after step ${data.afterStep}${data.verified ? '' : ' (unverified)'}`, detail: data.problem };
    case 'rollback':
      return { kind: 'step', title: `Rolled back to checkpoint ${data.label}`, detail: data.reason };
    case 'run-end':
      return { kind: 'run', title: 'Run ended ', status: data.status, detail: data.reason ?? data.error?.message };
    default:
      return { kind: 'step', title: event.type };
  }
}

/** The timeline element for a run's events (as GET /admin/runs/{id}/journal returns them). */
export function timeline(events) {
  const start = Date.parse(events[0]?.time ?? '');
  return h(
    'ol',
    { class: 'timeline' },
    events.map((event) => {
      const said = describe(event);
      return h(
        'li',
        { class: `event kind-${said.kind}`, 'data-type': event.type, 'data-seq': event.seq },
        h('span', { class: 'seq' }, `#${event.seq}`),
        h('span', { class: 'offset' }, `+${Date.parse(event.time) - start} ms`),
        h('span', { class: 'type' }, event.type),
        h(
          'div',
          { class: 'body' },
          h('div', { class: 'title' }, said.title, said.status === undefined ? null : statusBadge(said.status), said.cost === undefined ? null : h('span', { class: 'cost' }, money(said.cost))),
          said.detail === undefined || said.detail === '' ? null : h('div', { class: 'detail' }, said.detail),
          h('details', {}, h('summary', {}, 'event data'), h('pre', {}, json(event.data)), h('p', { class: 'hash' }, `hash ${event.hash}`)),
        ),
      );
    }),
  );
}

/** The hash chain's verdict, in one line. */
export function chainStatus(chain) {
  return chain.ok
    ? h('p', { class: 'chain chain-ok', 'data-chain': 'verified' }, `Hash chain verified: ${chain.events} events, head ${chain.lastHash.slice(0, 16)}…`)
    : h('p', { class: 'chain chain-broken', 'data-chain': 'broken', role: 'alert' }, `Hash chain BROKEN at event ${chain.seq} (${chain.type}): ${chain.problem}`);
}

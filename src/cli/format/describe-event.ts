import type { JournalEvent } from '../../journal/index.ts';
import type { JsonValue } from '../../spec/index.ts';
import { count, duration, micros, truncate } from './text.ts';

function brief(value: JsonValue | undefined, width = 90): string {
  if (value === undefined) return '';
  return truncate(typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value), width);
}

/** One readable line per journal event, for `keel show`. */
export function describeEvent(event: JournalEvent): string {
  switch (event.type) {
    case 'run-start':
      return `task ${event.data.task} v${event.data.taskVersion} for ${event.data.principal} (tenant ${event.data.tenant}), config ${event.data.configHash.slice(0, 12)}; input ${brief(event.data.input, 70)}`;
    case 'run-resume':
      return `worker ${event.data.worker} ${event.data.found === 'new' ? 'started' : 'resumed an interrupted'} run (attempt ${event.data.attempt})`;
    case 'step-start':
      return `${event.data.kind} ${event.data.name} (step ${event.data.step}${event.data.attempt > 1 ? `, attempt ${event.data.attempt}` : ''}${event.data.idempotent ? '' : ', not idempotent'})${event.data.kind === 'tool-call' ? ` ${brief(event.data.input, 60)}` : ''}`;
    case 'step-end': {
      const { outcome, usage } = event.data;
      const tokens = usage === undefined ? '' : ` · ${count(usage.inputTokens)} in / ${count(usage.outputTokens)} out tokens`;
      const cost = event.data.cost === undefined ? '' : ` · ${micros(event.data.cost.micros)}`;
      const result = outcome.ok ? `ok ${brief(summariseValue(outcome.value), 70)}` : `error [${outcome.error.code}] ${outcome.error.message}`;
      return `${event.data.kind} ${event.data.name} (step ${event.data.step}) ${duration(event.data.durationMs)}${tokens}${cost} → ${result}`;
    }
    case 'route-decision':
      return `step ${event.data.step}: route ${event.data.route} → ${event.data.provider}:${event.data.modelId} (${event.data.reason}; ~${count(event.data.estimatedInputTokens)} input tokens${event.data.estimated ? ', estimated' : ''})`;
    case 'budget-decision':
      return `step ${event.data.step}: ${event.data.outcome} ${micros(event.data.reservedMicros)} / ${count(event.data.reservedTokens)} tokens for ${event.data.provider}:${event.data.modelId}${event.data.reason === undefined ? '' : ` (${event.data.reason})`}`;
    case 'reservation-bill':
      return `${event.data.step === undefined ? '' : `step ${event.data.step}: `}reservation ${event.data.reservationId} billed ${micros(event.data.cost.micros)} (${event.data.from === 'reservation' ? 'its reservation' : 'what the budget book settled'}): ${event.data.reason}`;
    case 'model-attempt-end':
      return `step ${event.data.step} attempt ${event.data.attempt}: ${event.data.provider}:${event.data.modelId} ${duration(event.data.latencyMs)} → ${event.data.outcome === 'ok' ? 'ok' : `error [${event.data.error?.code ?? 'unknown'}] ${event.data.error?.message ?? ''}`}`;
    case 'retry-wait':
      return `step ${event.data.step}: waiting ${duration(event.data.waitMs)} before attempt ${event.data.attempt + 1} (${event.data.reason})`;
    case 'breaker-transition':
      return `breaker ${event.data.breaker}: ${event.data.from} → ${event.data.to}`;
    case 'model-fallback':
      return `step ${event.data.step}: ${event.data.from} → ${event.data.to} (${event.data.reason})`;
    case 'alert-raise':
      return `${event.data.kind} ${event.data.scope}: ${event.data.message}`;
    case 'fault-injection':
      return `step ${event.data.step}: simulator call ${event.data.call} injected ${brief(event.data.fault, 80)}`;
    case 'approval-request':
      return `${event.data.id} waiting for a person: ${event.data.reason}`;
    case 'human-decision':
      return `${event.data.decider} ${event.data.decision === 'approve' ? 'approved' : event.data.decision === 'deny' ? 'denied' : 'stopped the run'}${event.data.requestId === undefined ? '' : ` ${event.data.requestId}`}${event.data.reason === undefined ? '' : `: ${event.data.reason}`}`;
    case 'output-validation':
      return `${event.data.contract} v${event.data.version} attempt ${event.data.attempt}: ${event.data.ok ? 'valid' : event.data.violations.map((violation) => `${violation.path} ${violation.code}`).join(', ')}${event.data.lowConfidence === undefined ? '' : ` (low confidence ${event.data.lowConfidence.value} < ${event.data.lowConfidence.minimum})`}`;
    case 'context-assembly':
      return `manifest ${event.data.manifestHash.slice(0, 12)}`;
    case 'policy-decision':
      return `${event.data.principal} ${event.data.action} ${event.data.resource}: ${event.data.effect} [${event.data.policyIds.join(', ')}] ${event.data.reason}${event.data.shadow === undefined ? '' : ` · shadow ${event.data.shadow.effect}${event.data.shadow.agrees ? '' : ' (disagrees)'}`}`;
    case 'failure-decision':
      return `${event.data.point} ${event.data.kind}: ${event.data.action}: ${event.data.detail}`;
    case 'request-receive':
      return `${event.data.api} ${event.data.model}${event.data.stream ? ' (stream)' : ''} from ${event.data.principal}${event.data.key === undefined ? '' : ` with key ${event.data.key}`}${event.data.traceparent === undefined ? '' : `, trace ${event.data.traceparent}`}`;
    case 'loop-guard':
      return `${event.data.guard} (limit ${event.data.limit})${event.data.tool === undefined ? '' : ` on ${event.data.tool}`}: ${event.data.action}: ${event.data.detail}`;
    case 'span-end':
      return `${event.data.source} ${event.data.kind} ${event.data.name}${event.data.error === undefined ? '' : ` error: ${event.data.error.message}`}`;
    case 'score-record':
      return `${event.data.source === 'human' ? `label by ${event.data.by ?? 'someone'} of` : 'scored'} ${event.data.item}: ${event.data.scores.map((score) => `${score.subject} ${score.scorer} ${score.score}`).join(', ')}${event.data.note === undefined ? '' : ` · ${event.data.note}`}`;
    case 'retrieval-signal':
      return `${event.data.kind}: ${event.data.detail}`;
    case 'checkpoint':
      return `${event.data.label} after step ${event.data.afterStep}, state ${event.data.stateHash.slice(0, 12)}, ${event.data.verified ? 'verified' : `NOT verified: ${event.data.problem ?? ''}`}`;
    case 'rollback':
      return `back to checkpoint ${event.data.label} (event ${event.data.checkpointSeq}, after step ${event.data.afterStep}), epoch ${event.data.epoch}: ${event.data.reason}`;
    case 'run-end': {
      const markers = (event.data.confidence ?? []).map((marker) => `${marker.subject} ${marker.confidence}: ${marker.reason}`).join('; ');
      return [event.data.status, event.data.reason, markers === '' ? undefined : `confidence: ${markers}`, event.data.output === undefined ? undefined : `output ${brief(event.data.output, 80)}`]
        .filter((part) => part !== undefined)
        .join(' · ');
    }
  }
}

/** Model results are long; show what the model did rather than the whole envelope. */
function summariseValue(value: JsonValue): JsonValue {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Array.isArray(value.content)) {
    return value.content.map((part) => {
      if (part !== null && typeof part === 'object' && !Array.isArray(part)) {
        return part.type === 'tool-call' ? `call ${JSON.stringify(part.toolName)}(${JSON.stringify(part.input)})` : (part.text ?? null);
      }
      return part;
    });
  }
  return value;
}

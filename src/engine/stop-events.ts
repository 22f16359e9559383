import type { JournalEvent, JournalWriter } from '../journal/index.ts';
import type { StopRequestV1 } from '../spec/index.ts';

/** A person's stop, as the two events that end the run: the decision and a `failed` end, appended together. */
export function stopEvents(writer: JournalWriter, request: StopRequestV1): JournalEvent[] {
  const reason = `stopped by ${request.by}: ${request.reason}`;
  return [
    writer.build('human-decision', { decision: 'stop', decider: request.by, reason: request.reason }),
    writer.build('run-end', { status: 'failed', reason, error: { code: 'run-stopped', message: reason, retryable: false } }),
  ];
}

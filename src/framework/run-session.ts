/**
 * What a framework adapter's model middleware and governed tools of one run share. A framework
 * may turn anything a tool throws into a tool error for the model (the AI SDK does), so a failure
 * of the run itself inside a tool (an approval wait, an escalation, a lost lease, a divergent
 * replay) would be talked past; it is kept here instead, and the run's next model call, next tool
 * call or `throwIfRunInterrupted` rethrows it, so the engine sees it. Tool calls of one run are
 * decided and run one at a time, in the order the framework started them: step numbers follow
 * call order, so a resumed run must meet its steps in the same order it recorded them.
 */
import type { LabeledText } from '../access/index.ts';

/** A text the run has read, named by where it came from (`tool-result:<tool>#<n>`, `user:request#<n>`). */
export type SourcedText = LabeledText & { readonly source: string };

interface RunSession {
  interruption: { error: unknown } | undefined;
  queue: Promise<unknown>;
  /** Where tool results came from, so a later call's arguments carry their labels (flow rules). */
  provenance: SourcedText[];
}

const sessions = new WeakMap<object, RunSession>();

export function sessionOf(run: object): RunSession {
  let session = sessions.get(run);
  if (session === undefined) {
    session = { interruption: undefined, queue: Promise.resolve(), provenance: [] };
    sessions.set(run, session);
  }
  return session;
}

/**
 * Call after a framework's loop that used governed tools (`generateText`, `agent.invoke`): when
 * the run was stopped inside a tool (the framework saw only a tool error), this throws what stopped it.
 */
export function throwIfRunInterrupted(run: object): void {
  const interruption = sessions.get(run)?.interruption;
  if (interruption !== undefined) throw interruption.error;
}

/** Runs `work` after every earlier call queued on this run has finished. */
export function inTurn<Value>(run: object, work: () => Promise<Value>): Promise<Value> {
  const session = sessionOf(run);
  const result = session.queue.then(work);
  session.queue = result.catch(() => undefined);
  return result;
}

/**
 * Control flow that unwinds a task function. These are not errors a task should catch; the
 * engine turns each into a journaled decision.
 */
export class EscalationSignal extends Error {
  readonly reason: string;
  readonly code: string;
  constructor(reason: string, code = 'escalated') {
    super(reason);
    this.name = 'EscalationSignal';
    this.reason = reason;
    this.code = code;
  }
}

/** The run must wait for a person; the engine leaves it `waiting`, durably, and lets go of it. */
export class SuspendSignal extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'SuspendSignal';
    this.reason = reason;
  }
}

export class RollbackSignal extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'RollbackSignal';
    this.reason = reason;
  }
}

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

export class RollbackSignal extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'RollbackSignal';
    this.reason = reason;
  }
}

/** Ends a replay early: the journal has nothing more to replay, or replay cannot go on. */
export class ReplayStop extends Error {
  readonly reason: string;
  readonly natural: boolean;
  constructor(reason: string, natural: boolean) {
    super(reason);
    this.name = 'ReplayStop';
    this.reason = reason;
    this.natural = natural;
  }
}

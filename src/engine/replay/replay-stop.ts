/** Ends a replay early: the journal has nothing more to replay, or replay cannot go on. */
export class ReplayStop extends Error {
  readonly reason: string;
  readonly natural: boolean;
  /** Where the replayed code ended up when that is a run status: handed to a person, or waiting for one. */
  readonly ending: 'escalated' | 'waiting' | undefined;
  constructor(reason: string, natural: boolean, ending?: 'escalated' | 'waiting') {
    super(reason);
    this.name = 'ReplayStop';
    this.reason = reason;
    this.natural = natural;
    this.ending = ending;
  }
}

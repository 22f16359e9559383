import { parseEvent } from '../journal/index.ts';
import type { ModelVersionBook, ModelVersionObservation } from '../models/index.ts';
import { reportedVersion } from '../models/index.ts';
import type { StoreV1 } from '../spec/index.ts';

/** Runs read back, newest first, to find a provider model's last reported version. */
const recentRuns = 25;

/**
 * The versions provider models last answered with, read from the journal: every answer's version
 * is journaled with its attempt (`model-attempt-end`: `responseModel`, `systemFingerprint`), so
 * the last one seen lives in the store, for every process on it, with no table of its own. A
 * process reads it once per model, from the newest runs other than the calling one, then keeps it
 * current from its own answers; another process's change is seen by each process's next answer.
 */
export class JournalVersionBook implements ModelVersionBook {
  readonly #store: StoreV1;
  readonly #known = new Map<string, Promise<string | undefined>>();

  constructor(store: StoreV1) {
    this.#store = store;
  }

  async observe(observation: ModelVersionObservation): Promise<string | undefined> {
    const key = `${observation.provider}:${observation.modelId}`;
    // A journal that cannot be read says nothing: no alert, and the next answer is compared with this one.
    const earlier = (this.#known.get(key) ?? this.#lastJournaled(observation)).catch(() => undefined);
    this.#known.set(
      key,
      earlier.then(() => observation.version),
    );
    const previous = await earlier;
    return previous !== undefined && previous !== observation.version ? previous : undefined;
  }

  async #lastJournaled(observation: ModelVersionObservation): Promise<string | undefined> {
    const runs = await this.#store.listRuns({ limit: recentRuns + 1 });
    for (const run of runs) {
      if (run.id === observation.runId) continue;
      const events = (await this.#store.readJournal(run.id)).map(parseEvent);
      for (const event of events.toReversed()) {
        if (event.type !== 'model-attempt-end' || event.data.outcome !== 'ok' || event.data.responseModel === undefined) continue;
        if (event.data.provider !== observation.provider || event.data.modelId !== observation.modelId) continue;
        return reportedVersion({ modelId: event.data.responseModel, ...(event.data.systemFingerprint === undefined ? {} : { systemFingerprint: event.data.systemFingerprint }) });
      }
    }
    return undefined;
  }
}

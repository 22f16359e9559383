/**
 * Which fields of a run's events are sealed, and under which subjects. Once a run has received
 * data about subjects (a tool result labelled personal or confidential and naming them), every
 * payload field it journals from then on is sealed under all of them: the model may copy what it
 * read into its next request, its answer, the next tool's arguments and the run's output. Sealing
 * under every subject at once is deliberate: the field may hold any of them, so destroying any one
 * key must make it unreadable. Envelope-level fields (step names, kinds, costs, statuses, hashes)
 * stay readable: they are what audit and telemetry are made of.
 *
 * Payload fields: a step's input (for a model call, its request; provider and model stay readable),
 * a step's successful value, an approval request's details, a checkpoint's state, a framework
 * span's data, and the run's output.
 */
import type { EventData, EventType, JournalEvent } from '../journal/index.ts';
import type { JsonValue, StoreV1 } from '../spec/index.ts';
import type { PreparedDataKey } from './sealed-envelope.ts';
import { findEnvelopes, isSealedEnvelope, prepareDataKey, sealValue } from './sealed-envelope.ts';
import { SubjectKeyring } from './subject-keyring.ts';

export class RunSealer {
  readonly keyring: SubjectKeyring;
  readonly #subjects = new Set<string>();
  /** The data key of the current subjects, derived once per change of subjects. */
  #prepared: PreparedDataKey | undefined;

  constructor(keyring: SubjectKeyring) {
    this.keyring = keyring;
  }

  /**
   * The sealer of a run about to execute, its subjects restored from what its journal sealed so
   * far (a resumed run goes on sealing what it sealed before its crash). Undefined for a store
   * that keeps no subject keys.
   */
  static async forRun(store: StoreV1, events: readonly JournalEvent[]): Promise<RunSealer | undefined> {
    const keyring = SubjectKeyring.of(store);
    if (keyring === undefined) return undefined;
    const sealer = new RunSealer(keyring);
    const subjects = events.flatMap((event) => findEnvelopes(event.data).flatMap((envelope) => envelope.$sealed.keys.map((key) => key.subject)));
    if (subjects.length > 0) await sealer.include(subjects);
    return sealer;
  }

  /** The subjects the run's payloads are sealed under from now on. */
  get subjects(): string[] {
    return [...this.#subjects].sort();
  }

  /** The run now holds data about these subjects: their keys are made ready and every later payload field is sealed under them. */
  async include(subjects: readonly string[]): Promise<void> {
    const fresh = subjects.filter((subject) => subject !== '' && !this.#subjects.has(subject));
    if (fresh.length === 0) return;
    // A subject redacted while this run held its key gets a fresh key: what the run writes now is new data.
    await this.keyring.ensure(fresh);
    for (const subject of fresh) this.#subjects.add(subject);
    this.#prepared = undefined;
  }

  /** The event's data with its payload fields sealed; unchanged while the run holds no one's data. */
  seal<Type extends EventType>(type: Type, data: EventData[Type]): EventData[Type] {
    if (this.#subjects.size === 0) return data;
    const prepared = (this.#prepared ??= prepareDataKey(this.keyring.liveKeys(this.subjects)));
    const sealed = (value: JsonValue): JsonValue => (isSealedEnvelope(value) ? value : (sealValue(value, prepared) as unknown as JsonValue));
    switch (type) {
      case 'step-start': {
        const start = data as EventData['step-start'];
        if (start.input === undefined) return data;
        const input = start.input;
        if (start.kind === 'model-call' && typeof input === 'object' && input !== null && !Array.isArray(input) && 'request' in input) {
          return { ...start, input: { ...input, request: sealed(input.request ?? null) } } as unknown as EventData[Type];
        }
        return { ...start, input: sealed(input) } as unknown as EventData[Type];
      }
      case 'step-end': {
        const end = data as EventData['step-end'];
        return end.outcome.ok ? ({ ...end, outcome: { ok: true, value: sealed(end.outcome.value) } } as unknown as EventData[Type]) : data;
      }
      case 'approval-request': {
        const request = data as EventData['approval-request'];
        return { ...request, details: sealed(request.details) } as unknown as EventData[Type];
      }
      case 'checkpoint': {
        const checkpoint = data as EventData['checkpoint'];
        return { ...checkpoint, state: sealed(checkpoint.state) } as unknown as EventData[Type];
      }
      case 'span-end': {
        const span = data as EventData['span-end'];
        return { ...span, data: sealed(span.data) } as unknown as EventData[Type];
      }
      case 'run-end': {
        const end = data as EventData['run-end'];
        return end.output === undefined ? data : ({ ...end, output: sealed(end.output) } as unknown as EventData[Type]);
      }
      default:
        return data;
    }
  }
}

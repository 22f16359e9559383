/**
 * `sim:NAME@Q`: the simulated model NAME with a known, lower quality. It answers exactly as
 * `sim:NAME` does, except that on a seeded share 1 − Q of items its final answers are wrong, so
 * its task success is Q times the original's (an item it would have got right is then wrong;
 * one it got wrong stays wrong). An item is a conversation, known by its first user message: a
 * repair re-ask or a second turn of the same conversation is as wrong as the first. Tool calls are
 * left as they are, so what the model does is unchanged and only what it concludes is not: a
 * regression a recorded run cannot catch by its actions alone. Which items go wrong depends only
 * on the simulator seed and the item, so a drop can be injected, and its detection measured, on
 * every machine alike.
 */
import { KeelError } from '../../errors/index.ts';
import type { GenerateOptionsV1 } from '../../spec/index.ts';
import { seededRandom, seedFrom } from './seeded-random.ts';
import type { SimulatorScript } from './simulator-script.ts';

/** `default@0.85` → profile `default`, quality 0.85; `default` → quality undefined (unchanged). */
export function parseSimulatorName(modelId: string): { profile: string; quality: number | undefined } {
  const at = modelId.indexOf('@');
  if (at === -1) return { profile: modelId, quality: undefined };
  const profile = modelId.slice(0, at);
  const text = modelId.slice(at + 1);
  const quality = /^(?:0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(quality > 0 && quality <= 1)) {
    throw new KeelError('config-invalid', `model 'sim:${modelId}': the quality after @ must be a number above 0 and at most 1 (e.g. sim:${profile || 'default'}@0.85), got '${text}'`);
  }
  return { profile, quality };
}

/** The first user message of the conversation: what identifies an item across its turns. */
function itemText(request: GenerateOptionsV1): string {
  const first = request.messages.find((message) => message.role === 'user');
  return first?.role === 'user' ? first.content.map((part) => part.text).join(' ') : '';
}

/** True when the model at this quality answers this item wrongly: a seeded draw per (seed, item). */
export function isWrongItem(request: GenerateOptionsV1, quality: number, seed: number): boolean {
  if (quality >= 1) return false;
  return seededRandom(seedFrom(`${seed}:quality:${itemText(request)}`))() >= quality;
}

const wrongAnswers = [
  'All sorted: your request has been completed and nothing more is needed.',
  'We have looked into it and there is nothing to refund or change here.',
  'This has been taken care of; no further action is required on your side.',
];

/**
 * The script of `sim:NAME@Q`: the original's turns, except that a text answer on a wrong item is
 * replaced by a plausible, confident and wrong one. Under a JSON response format the simulator
 * turns that text into a value following the schema, as a model that gets it wrong still does.
 */
export function withQuality(script: SimulatorScript, quality: number, seed: number): SimulatorScript {
  return (input) => {
    const turn = script(input);
    if (turn.type !== 'text' || !isWrongItem(input.request, quality, seed)) return turn;
    return { type: 'text', text: wrongAnswers[Math.floor(input.random() * wrongAnswers.length)] ?? wrongAnswers[0] ?? '' };
  };
}

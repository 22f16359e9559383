/**
 * LLM-as-judge: a model, called through the deployment's governed route (budgeted, journaled as a
 * model step of the evaluation run), reads a versioned rubric, the item, the recorded answer and
 * the answer under test, and says pass or fail. Its agreement with human labels is measured on
 * the labelled items (Cohen's κ, sensitivity, specificity), so a judge is trusted only as far as
 * it agrees with people.
 */
import { canonicalJson } from '../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, JsonValue } from '../spec/index.ts';
import type { SimulatorScript } from '../models/index.ts';
import type { DatasetItem } from './dataset.ts';
import type { Answer } from './scorers.ts';

export interface Rubric {
  name: string;
  version: string;
  text: string;
}

export const defaultRubric: Rubric = {
  name: 'matches-reference',
  version: '1',
  text:
    'You grade an AI agent. You are given the request it handled, the reference answer (what a correct run ended with) and the answer under test. ' +
    'Answer pass when the answer under test ends the same way and says the same facts as the reference (amounts, ids, decisions, the policy applied); ' +
    'wording may differ. Answer fail when a fact differs, the decision differs, or it ended differently. Reply with JSON: {"verdict": "pass" | "fail", "reason": "…"}.',
};

const verdictSchema: JsonValue = {
  type: 'object',
  properties: { verdict: { type: 'string', enum: ['pass', 'fail'] }, reason: { type: 'string' } },
  required: ['verdict', 'reason'],
  additionalProperties: false,
};

/** What the judge is shown, as JSON in the user message (a simulated judge reads it back). */
interface JudgeCase {
  request: JsonValue;
  reference: { status: string; output: JsonValue };
  answer: { status: string; output: JsonValue };
}

export function judgeRequest(rubric: Rubric, item: DatasetItem, answer: Answer): GenerateOptionsV1 {
  const shown: JudgeCase = { request: item.input, reference: { status: item.reference.status, output: item.reference.output }, answer: { status: answer.status, output: answer.output } };
  return {
    messages: [
      { role: 'system', content: `Rubric ${rubric.name} v${rubric.version}. ${rubric.text}` },
      { role: 'user', content: [{ type: 'text', text: JSON.stringify(shown) }] },
    ],
    responseFormat: { type: 'json', schema: verdictSchema, name: 'verdict' },
    temperature: 0,
    maxOutputTokens: 200,
  };
}

/** The judge's verdict as a score, or why it could not be read (a judge that breaks format scores nothing). */
export function readJudgeAnswer(result: GenerateResultV1): { score: number; reason: string } | { problem: string } {
  const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  try {
    const value = JSON.parse(text) as { verdict?: unknown; reason?: unknown };
    if (value.verdict === 'pass' || value.verdict === 'fail') return { score: value.verdict === 'pass' ? 1 : 0, reason: typeof value.reason === 'string' ? value.reason : '' };
    return { problem: `the judge's verdict is ${JSON.stringify(value.verdict)}, not pass or fail` };
  } catch {
    return { problem: `the judge did not answer JSON: ${text.slice(0, 80)}` };
  }
}

/**
 * How a simulated judge (`sim:` models) grades: pass exactly when the answer ends as the reference
 * did with the same output. A deterministic stand-in for a model that follows the rubric well.
 */
export const judgeScript: SimulatorScript = ({ request }) => {
  const user = request.messages.find((message) => message.role === 'user');
  const text = user?.role === 'user' ? user.content.map((part) => part.text).join('') : '';
  try {
    const shown = JSON.parse(text) as JudgeCase;
    const pass = shown.answer.status === shown.reference.status && canonicalJson(shown.answer.output) === canonicalJson(shown.reference.output);
    return { type: 'text', text: JSON.stringify({ verdict: pass ? 'pass' : 'fail', reason: pass ? 'same ending and facts as the reference' : 'the ending or a fact differs from the reference' }) };
  } catch {
    return { type: 'text', text: JSON.stringify({ verdict: 'fail', reason: 'the case could not be read' }) };
  }
};

export interface Agreement {
  /** Items with both a human label and a judge verdict. */
  items: number;
  /** Share of items where they agree. */
  observed: number;
  /** Cohen's κ: agreement beyond chance; null when undefined (both always say the same one thing). */
  kappa: number | null;
  /** Of the items people passed, the share the judge passed; null without any. */
  sensitivity: number | null;
  /** Of the items people failed, the share the judge failed; null without any. */
  specificity: number | null;
}

/** Agreement of judge and human on pass (score ≥ 0.5) versus fail. */
export function judgeAgreement(pairs: readonly { judge: number; human: number }[]): Agreement {
  let bothPass = 0;
  let bothFail = 0;
  let judgeOnly = 0;
  let humanOnly = 0;
  for (const pair of pairs) {
    const judge = pair.judge >= 0.5;
    const human = pair.human >= 0.5;
    if (judge && human) bothPass += 1;
    else if (!judge && !human) bothFail += 1;
    else if (judge) judgeOnly += 1;
    else humanOnly += 1;
  }
  const total = pairs.length;
  if (total === 0) return { items: 0, observed: 0, kappa: null, sensitivity: null, specificity: null };
  const observed = (bothPass + bothFail) / total;
  const judgePass = (bothPass + judgeOnly) / total;
  const humanPass = (bothPass + humanOnly) / total;
  const chance = judgePass * humanPass + (1 - judgePass) * (1 - humanPass);
  return {
    items: total,
    observed,
    kappa: chance === 1 ? null : (observed - chance) / (1 - chance),
    sensitivity: bothPass + humanOnly === 0 ? null : bothPass / (bothPass + humanOnly),
    specificity: bothFail + judgeOnly === 0 ? null : bothFail / (bothFail + judgeOnly),
  };
}

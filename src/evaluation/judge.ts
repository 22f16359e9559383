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
    'You grade an AI agent. You are given the request it handled, the conversation it had (its tool calls and their results: the evidence), ' +
    'the answer a recorded run gave, and the answer under test. Answer pass when the answer under test is what the evidence supports ' +
    '(amounts, ids, decisions, the policy applied); wording may differ. Answer fail when a fact or decision is not supported by the evidence. ' +
    'The recorded answer may itself be wrong. Reply with JSON: {"verdict": "pass" | "fail", "reason": "…"}.',
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
  /** The messages before the recorded run's last answer: what the agent knew. */
  evidence: JsonValue;
  reference: { status: string; output: JsonValue };
  answer: { status: string; output: JsonValue };
}

export function judgeRequest(rubric: Rubric, item: DatasetItem, answer: Answer): GenerateOptionsV1 {
  const evidence = (item.conversation?.request as { messages?: JsonValue } | null | undefined)?.messages ?? null;
  const shown: JudgeCase = { request: item.input, evidence, reference: { status: item.reference.status, output: item.reference.output }, answer: { status: answer.status, output: answer.output } };
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

/** The facts of an answer: its leaves that are not prose (ids, amounts, names), by path. */
function facts(value: JsonValue, path = ''): Map<string, string> {
  const found = new Map<string, string>();
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) for (const [at, fact] of facts(child ?? null, path === '' ? key : `${path}.${key}`)) found.set(at, fact);
  } else if (!(typeof value === 'string' && value.includes(' '))) found.set(path, canonicalJson(value));
  return found;
}

/** The agent's own structured answer inside a run's output (`output.output` for an agent), else the output. */
function answerValue(output: JsonValue): JsonValue {
  return output !== null && typeof output === 'object' && !Array.isArray(output) && output.output !== undefined ? (output.output ?? null) : output;
}

/**
 * How a simulated judge (`sim:` models) grades, given the simulated agent's own script as its
 * knowledge of the task: it works out, from the evidence, what the answer should have been (the
 * script's turn on that conversation) and passes the answer under test when every fact of it (ids,
 * amounts, names; not prose) agrees. Without evidence to work from it compares with the recorded
 * answer. A deterministic stand-in for a capable judge that follows the rubric.
 */
export function judgeScript(taskScript: SimulatorScript | undefined): SimulatorScript {
  return ({ request }) => {
    const user = request.messages.find((message) => message.role === 'user');
    const text = user?.role === 'user' ? user.content.map((part) => part.text).join('') : '';
    const verdict = (pass: boolean, reason: string) => ({ type: 'text' as const, text: JSON.stringify({ verdict: pass ? 'pass' : 'fail', reason }) });
    let shown: JudgeCase;
    try {
      shown = JSON.parse(text) as JudgeCase;
    } catch {
      return verdict(false, 'the case could not be read');
    }
    const evidence = Array.isArray(shown.evidence) ? (shown.evidence as unknown as GenerateOptionsV1['messages']) : undefined;
    const turn = taskScript === undefined || evidence === undefined ? undefined : taskScript({ request: { messages: evidence, responseFormat: { type: 'json' } }, random: () => 0, call: 1 });
    let expected: JsonValue | undefined;
    try {
      expected = turn?.type === 'text' ? (JSON.parse(turn.text) as JsonValue) : undefined;
    } catch {
      expected = undefined;
    }
    if (expected === undefined || expected === null || typeof expected !== 'object') {
      const same = shown.answer.status === shown.reference.status && canonicalJson(shown.answer.output) === canonicalJson(shown.reference.output);
      return verdict(same, same ? 'ends as the recorded run did' : 'ends differently from the recorded run');
    }
    const given = facts(answerValue(shown.answer.output));
    const wrong = [...facts(expected)].filter(([path, fact]) => given.get(path) !== fact).map(([path]) => path);
    return verdict(wrong.length === 0, wrong.length === 0 ? 'every fact is supported by the evidence' : `not supported by the evidence: ${wrong.join(', ')}`);
  };
}

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

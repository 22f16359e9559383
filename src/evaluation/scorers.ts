/**
 * Scorers: each turns one answer (a candidate's, or the recorded run's) into a score in [0, 1]
 * against the item's reference, the recorded run. Each has a version; an evaluation records the
 * versions it scored with, and two evaluations scored differently are never compared.
 */
import { KeelError } from '../errors/index.ts';
import { canonicalJson } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { DatasetItem } from './dataset.ts';

/** What a run (replayed or recorded) did, as scorers see it. */
export interface Answer {
  status: string;
  output: JsonValue;
  toolCalls: { name: string; args: JsonValue }[];
  tokens: number;
  latencyMs: number;
  /** Why replay stopped: a tool call the recorded run never made (a divergence), or null. */
  divergence: string | null;
}

export interface ScoreResult {
  score: number;
  detail?: string;
}

export interface Scorer {
  name: string;
  version: string;
  /** What it checks, for reports. */
  description: string;
  score(answer: Answer, item: DatasetItem): ScoreResult;
}

/** The value at a dotted path (`output.refundCents`); undefined when absent. */
export function valueAt(value: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of path.split('.')) {
    if (current === null || current === undefined || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : current[key];
  }
  return current;
}

const same = (left: JsonValue | undefined, right: JsonValue | undefined) => canonicalJson(left ?? null) === canonicalJson(right ?? null);

function contractScorer(): Scorer {
  return {
    name: 'contract',
    version: '1',
    description: 'the answer passed its output contract: the run ended ok or degraded (an agent validates its answer before it ends so), or ended as the recorded run did',
    score: (answer, item) => {
      if (answer.divergence !== null) return { score: 0, detail: 'diverged' };
      const passed = answer.status === 'ok' || answer.status === 'degraded' || answer.status === item.reference.status;
      return passed ? { score: 1 } : { score: 0, detail: `ended ${answer.status}, recorded ${item.reference.status}` };
    },
  };
}

function exactScorer(): Scorer {
  return {
    name: 'exact',
    version: '1',
    description: 'the run ended as the recorded run did, with the same output, byte for byte (canonical JSON)',
    score: (answer, item) => {
      if (answer.status !== item.reference.status) return { score: 0, detail: `status ${item.reference.status} → ${answer.status}` };
      return same(answer.output, item.reference.output) ? { score: 1 } : { score: 0, detail: 'output differs' };
    },
  };
}

function jsonFieldsScorer(paths: string[]): Scorer {
  return {
    name: `json:${paths.join('|')}`,
    version: '1',
    description: `share of the fields ${paths.join(', ')} equal to the recorded output's`,
    score: (answer, item) => {
      const differing = paths.filter((path) => !same(valueAt(answer.output, path), valueAt(item.reference.output, path)));
      return { score: (paths.length - differing.length) / paths.length, ...(differing.length === 0 ? {} : { detail: `differs: ${differing.join(', ')}` }) };
    },
  };
}

function numericScorer(path: string, tolerance: number): Scorer {
  return {
    name: `numeric:${path}:${tolerance}`,
    version: '1',
    description: `${path} within ${tolerance} of the recorded value`,
    score: (answer, item) => {
      const got = valueAt(answer.output, path);
      const want = valueAt(item.reference.output, path);
      if (typeof want !== 'number') return same(got, want) ? { score: 1 } : { score: 0, detail: `${path}: recorded ${canonicalJson(want ?? null)}` };
      if (typeof got !== 'number') return { score: 0, detail: `${path} is not a number` };
      return Math.abs(got - want) <= tolerance ? { score: 1 } : { score: 0, detail: `${path} ${got}, recorded ${want}` };
    },
  };
}

function regexScorer(path: string, pattern: string): Scorer {
  let expression: RegExp;
  try {
    expression = new RegExp(pattern, 'u');
  } catch (error) {
    throw new KeelError('usage-invalid', `scorer regex:${path}:${pattern}: not a regular expression (${error instanceof Error ? error.message : String(error)})`);
  }
  return {
    name: `regex:${path}:${pattern}`,
    version: '1',
    description: `${path} matches /${pattern}/`,
    score: (answer) => {
      const value = valueAt(answer.output, path);
      return typeof value === 'string' && expression.test(value) ? { score: 1 } : { score: 0, detail: `${path} does not match` };
    },
  };
}

function toolsScorer(): Scorer {
  return {
    name: 'tools',
    version: '1',
    description: 'the tools called, with their arguments, against the recorded calls (F1 over calls); a call the recorded run never made scores 0',
    score: (answer, item) => {
      if (answer.divergence !== null) return { score: 0, detail: `diverged: ${answer.divergence}` };
      const wanted = item.reference.toolCalls.map((call) => `${call.name}(${canonicalJson(call.args)})`);
      const made = answer.toolCalls.map((call) => `${call.name}(${canonicalJson(call.args)})`);
      if (wanted.length === 0 && made.length === 0) return { score: 1 };
      const remaining = [...wanted];
      let matched = 0;
      for (const call of made) {
        const at = remaining.indexOf(call);
        if (at !== -1) {
          remaining.splice(at, 1);
          matched += 1;
        }
      }
      const score = (2 * matched) / (wanted.length + made.length);
      return score === 1 ? { score } : { score, detail: `${matched} of ${wanted.length} recorded calls made, ${made.length - matched} other` };
    },
  };
}

function latencyScorer(limitMs: number): Scorer {
  return {
    name: `latency:${limitMs}`,
    version: '1',
    description: `the answer took at most ${limitMs} ms`,
    score: (answer) => (answer.latencyMs <= limitMs ? { score: 1 } : { score: 0, detail: `${answer.latencyMs} ms` }),
  };
}

function costScorer(ratio: number): Scorer {
  return {
    name: `cost:${ratio}`,
    version: '1',
    description: `the answer spent at most ${ratio} times the recorded run's tokens`,
    score: (answer, item) => (answer.tokens <= item.reference.tokens * ratio ? { score: 1 } : { score: 0, detail: `${answer.tokens} tokens, recorded ${item.reference.tokens}` }),
  };
}

function positiveNumber(text: string | undefined, scorer: string): number {
  const value = text === undefined || text === '' ? Number.NaN : Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new KeelError('usage-invalid', `scorer ${scorer} needs a positive number, got '${text ?? ''}'`);
  return value;
}

export const defaultScorers = 'exact,contract,tools';

/**
 * `--scorer` → scorers, the first being the one the verdict is on: `exact`, `contract`, `tools`,
 * `json:PATH|PATH`, `numeric:PATH:TOLERANCE`, `regex:PATH:PATTERN`, `latency:MS`, `cost:RATIO`,
 * and `judge` (the LLM judge; it needs --judge). Comma-separated.
 */
export function parseScorers(text: string | undefined): { scorers: Scorer[]; judge: boolean; primary: string } {
  const names = (text ?? defaultScorers).split(',').map((part) => part.trim());
  const scorers: Scorer[] = [];
  let judge = false;
  for (const spec of names) {
    const [kind = '', ...rest] = spec.split(':');
    const argument = rest.join(':');
    if (spec === 'exact') scorers.push(exactScorer());
    else if (spec === 'contract') scorers.push(contractScorer());
    else if (spec === 'tools') scorers.push(toolsScorer());
    else if (spec === 'judge') judge = true;
    else if (kind === 'json' && argument !== '') scorers.push(jsonFieldsScorer(argument.split('|')));
    else if (kind === 'numeric' && rest.length === 2 && rest[0] !== '') scorers.push(numericScorer(rest[0] ?? '', positiveNumber(rest[1], spec)));
    else if (kind === 'regex' && rest.length >= 2 && rest[0] !== '') scorers.push(regexScorer(rest[0] ?? '', rest.slice(1).join(':')));
    else if (kind === 'latency') scorers.push(latencyScorer(positiveNumber(argument, spec)));
    else if (kind === 'cost') scorers.push(costScorer(positiveNumber(argument, spec)));
    else {
      throw new KeelError(
        'usage-invalid',
        `unknown scorer '${spec}' (known: exact, contract, tools, judge, json:PATH|PATH, numeric:PATH:TOLERANCE, regex:PATH:PATTERN, latency:MS, cost:RATIO)`,
      );
    }
  }
  const seen = new Set<string>();
  for (const name of [...scorers.map((scorer) => scorer.name), ...(judge ? ['judge'] : [])]) {
    if (seen.has(name)) throw new KeelError('usage-invalid', `scorer ${name} is named twice`);
    seen.add(name);
  }
  return { scorers, judge, primary: names[0] === 'judge' ? 'judge' : (scorers[0]?.name ?? 'judge') };
}

/**
 * How data labels (LabelsV1, src/spec/labels-v1.ts) merge and propagate. Every context item and
 * tool result carries labels: the tenants whose data it holds, how sensitive it is, and where it
 * came from. The harness, never the model, computes and checks them.
 *
 * Propagation rules
 *
 * 1. Merge. Combining items unions their tenants and origins and takes the highest classification
 *    (public < internal < confidential < personal).
 * 2. Model output. A model's output carries the merge of the labels of every item in the context
 *    that produced it (`contextLabels`): the model may have copied anything it read.
 * 3. Tool arguments (provenance by value matching, `argumentLabels`). Each argument leaf value (a
 *    string or a number) is looked up in the labeled texts of the context:
 *    - found in a user or system item: it is attributed to those trusted items alone (their merged
 *      labels, trusted origin): the value was available from a trusted source, so an untrusted
 *      document repeating it (or an injection copying it) changes nothing;
 *    - found only in untrusted items: the merge of the labels of every item containing it, so its
 *      origin is `untrusted` and its classification the highest of those items;
 *    - found nowhere (the model wrote it): it carries the model output's labels, i.e. the merge of
 *      the whole context (rule 2), so a context holding untrusted or confidential items taints it.
 *    Numbers also match their cents rendering (`125000` matches `1,250.00`, `1250.00`, `$1,250`),
 *    ISO dates their written forms (`2026-12-08` matches `December 8, 2026`, `8 Dec 2026`,
 *    `12/08/2026`), and identifiers their spellings without separators (`INV-3301`, `inv 3301`).
 *    Constants (currency and country codes, yes/no, true/false) carry no one's labels: they are
 *    system values wherever they also appear.
 * 4. Subjects. Confidential or personal data may name its subjects (whom it is about); a merge keeps
 *    only the subjects all its sensitive parts share, so data about two people goes to neither.
 *
 * Limits (deliberate, documented): matching is textual, so a value the model transforms (re-encodes,
 * paraphrases, splits, translates) is not traced to its source and falls back to rule 2, which is
 * conservative for confidentiality and origin but over-blocks (a composed summary of a confidential
 * document cannot go to an external tool even when harmless). Very short values (under 3
 * characters) match too easily to mean anything and are treated as written by the model. A value
 * that an attacker plants AND the user also typed counts as the user's. Labels on the inputs are
 * trusted as given: a mislabeled document is a mislabeled flow.
 */
import type { ClassificationV1, JsonValue, LabelsV1, OriginV1 } from '../spec/index.ts';

export type Classification = ClassificationV1;
export type Origin = OriginV1;

/**
 * LabelsV1 as access decides on them: the classification always set. Data nobody classified
 * counts as public, the lowest level, so it never raises a merge.
 */
export type Labels = LabelsV1 & { classification: Classification };

/**
 * What provenance is traced against: any text with its labels. A context item (the context
 * component's ContextItem) is one; so is a tool result the run has received.
 */
export interface LabeledText {
  readonly text: string;
  readonly labels: LabelsV1;
}

export const classificationOrder: readonly Classification[] = ['public', 'internal', 'confidential', 'personal'];

/** Unclassified ranks with public, the lowest. */
export function classificationRank(classification: Classification | undefined): number {
  return classification === undefined ? 0 : classificationOrder.indexOf(classification);
}

export function labels(partial: Partial<LabelsV1> = {}): Labels {
  const made: Labels = { tenants: [...(partial.tenants ?? [])].sort(), classification: partial.classification ?? 'public', origins: [...(partial.origins ?? [])].sort() };
  if (partial.subjects !== undefined) made.subjects = [...new Set(partial.subjects)].sort();
  return made;
}

/** Above internal: data whose recipients matter. */
function isSensitive(classification: Classification | undefined): boolean {
  return classificationRank(classification) > classificationRank('internal');
}

/**
 * Union of tenants and origins, the highest classification; the subjects every sensitive part
 * shares (a sensitive part naming none leaves none). No labels at all merges to public, no tenant, no origin.
 */
export function mergeLabels(...all: LabelsV1[]): Labels {
  const tenants = new Set<string>();
  const origins = new Set<Origin>();
  let rank = 0;
  let subjects: Set<string> | undefined;
  for (const item of all) {
    for (const tenant of item.tenants) tenants.add(tenant);
    for (const origin of item.origins) origins.add(origin);
    rank = Math.max(rank, classificationRank(item.classification));
    if (isSensitive(item.classification)) {
      const own = new Set(item.subjects ?? []);
      subjects = subjects === undefined ? own : new Set([...subjects].filter((subject) => own.has(subject)));
    }
  }
  const merged: Labels = { tenants: [...tenants].sort(), classification: classificationOrder[rank] ?? 'public', origins: [...origins].sort() };
  // Left out when no part names subjects: absent and empty mean the same (nobody), and most data names none.
  if (subjects !== undefined && all.some((item) => item.subjects !== undefined)) merged.subjects = [...subjects].sort();
  return merged;
}

export function isTrustedOrigin(origin: Origin): boolean {
  return origin === 'user' || origin === 'system';
}

/** Rule 2: what a model's output carries. */
export function contextLabels(context: readonly LabeledText[]): Labels {
  return mergeLabels(...context.map((item) => item.labels));
}

const minimumMatchLength = 3;

function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The spellings under which a number may appear in a text. */
function numberSpellings(value: number): string[] {
  const spellings = [String(value)];
  if (Number.isInteger(value)) {
    const units = value / 100;
    spellings.push(units.toFixed(2), units.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    // Whole amounts are typed without cents too: `$1,250` and `1250 USD` are 125000 cents.
    if (Number.isInteger(units) && units >= 100) spellings.push(units.toLocaleString('en-US'), String(units));
    if (value >= 1_000) spellings.push(value.toLocaleString('en-US'));
  }
  return [...new Set(spellings)];
}

function containsNumber(text: string, value: number): boolean {
  return numberSpellings(value).some((spelling) => new RegExp(`(?<![\\w.,-])${spelling.replace(/[.,]/g, '\\$&')}(?![\\w]|[.,]\\d)`).test(text));
}

const months = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** The written forms of an ISO date (`2026-12-08`, with or without a time). */
function dateSpellings(value: string): string[] {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(value);
  if (match === null) return [];
  const [year, month, day] = [match[1] ?? '', Number(match[2]), Number(match[3])];
  const name = months[month - 1];
  if (name === undefined || day < 1 || day > 31) return [];
  const short = name.slice(0, 3);
  const pad = (number: number) => String(number).padStart(2, '0');
  return [`${year}-${pad(month)}-${pad(day)}`, `${name} ${day}, ${year}`, `${short} ${day}, ${year}`, `${day} ${name} ${year}`, `${day} ${short} ${year}`, `${pad(month)}/${pad(day)}/${year}`, `${pad(day)}.${pad(month)}.${year}`];
}

/** An identifier's letters and digits, without separators: `INV-3301` and `inv 3301` are one id. */
function compactIdentifier(value: string): string | undefined {
  if (!/^[A-Za-z]+[-_ ./]?\d[\w-]*$/.test(value) && !/^[A-Za-z]+(?:[-_ ][A-Za-z0-9]+)+$/.test(value)) return undefined;
  const compact = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  return compact.length >= 5 && /\d/.test(compact) ? compact : undefined;
}

/** Codes and words any system uses: they carry nobody's labels. */
export function isConstant(value: string | number): boolean {
  return typeof value === 'string' && (/^[A-Z]{2,3}$/.test(value) || /^(?:true|false|yes|no|none|n\/a)$/i.test(value));
}

/** The context items that contain `value`: verbatim (case- and whitespace-insensitive for strings), or in another format of the same value. */
export function itemsContaining<Item extends LabeledText>(context: readonly Item[], value: string | number): Item[] {
  if (typeof value === 'number') return context.filter((item) => containsNumber(item.text, value));
  const needle = normalise(value);
  if (needle.length < minimumMatchLength) return [];
  const dates = dateSpellings(value.trim()).map(normalise);
  const compact = compactIdentifier(value.trim());
  return context.filter((item) => {
    const text = normalise(item.text);
    if (text.includes(needle) || dates.some((date) => text.includes(date))) return true;
    return compact !== undefined && text.replace(/[^a-z0-9]/g, '').includes(compact);
  });
}

/** Rule 3 for one leaf value. */
export function leafLabels(context: readonly LabeledText[], value: string | number): Labels {
  if (isConstant(value)) return labels({ origins: ['system'] });
  const sources = itemsContaining(context, value);
  if (sources.length === 0) return contextLabels(context);
  const trusted = sources.filter((item) => item.labels.origins.some(isTrustedOrigin));
  if (trusted.length === 0) return mergeLabels(...sources.map((item) => item.labels));
  const merged = mergeLabels(...trusted.map((item) => item.labels));
  return { ...merged, origins: merged.origins.filter(isTrustedOrigin) };
}

function leaves(value: JsonValue): (string | number)[] {
  if (typeof value === 'string' || typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(leaves);
  return [];
}

/** Rule 3 for one argument (any JSON): the merge of its leaves' labels. */
export function valueLabels(context: readonly LabeledText[], value: JsonValue): Labels {
  const found = leaves(value);
  if (found.length === 0) return labels({ origins: ['system'] });
  return mergeLabels(...found.map((leaf) => leafLabels(context, leaf)));
}

/** Rule 3 for every top-level argument of a call; arguments that are not an object count as one `$` argument. */
export function argumentLabels(context: readonly LabeledText[], args: JsonValue): Record<string, Labels> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { $: valueLabels(context, args) };
  return Object.fromEntries(Object.entries(args).map(([name, value]) => [name, valueLabels(context, value)]));
}

/**
 * The rules a run's tags follow (RunRecordV1.tags), checked by every store before it creates a run
 * and by the gateway before it opens one, so both refuse the same tags with the same words.
 */
import { KeelError } from '../errors/index.ts';
import type { RunTagsV1 } from '../spec/index.ts';

export const maxRunTags = 16;
export const maxRunTagValueLength = 256;
/** A tag's name: also what `keel spend --by tag:NAME` names, so nothing that needs quoting. */
export const runTagNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;

// C0 controls and DEL: a value is shown in tables and reports, one line each. NUL would not even
// reach PostgreSQL, whose text cannot hold it.
// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's purpose
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** How a problem names the entries: a run's tags, or the metadata a gateway request carries them in. */
export interface RunTagWords {
  /** The whole map: `tags`. */
  whole: string;
  /** Several entries: `tags`. */
  entries: string;
  /** An entry's name: `tag name`. */
  name: string;
  /** One entry, before its name: `tag`. */
  entry: string;
}

const tagWords: RunTagWords = { whole: 'tags', entries: 'tags', name: 'tag name', entry: 'tag' };

/** What is wrong with these tags, in a sentence naming the tag, or undefined when they are good. */
export function runTagsProblem(tags: unknown, words: RunTagWords = tagWords): string | undefined {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return `${words.whole} must be an object of strings, got ${describe(tags)}`;
  const names = Object.keys(tags);
  if (names.length > maxRunTags) return `at most ${maxRunTags} ${words.entries} are allowed, got ${names.length}`;
  for (const name of names) {
    if (!runTagNamePattern.test(name)) return `${words.name} ${describe(name)} must be 1 to 64 letters, digits, '_', '.' or '-'`;
    // Set on a plain object, it would replace the object's prototype instead of adding an entry.
    if (name === '__proto__') return `${words.name} "__proto__" is reserved`;
    const value: unknown = (tags as Record<string, unknown>)[name];
    const entry = `${words.entry} ${name}`;
    if (typeof value !== 'string') return `${entry} must be a string, got ${describe(value)}`;
    if (value.length === 0) return `${entry} is empty`;
    if (longerThan(value, maxRunTagValueLength)) return `${entry} is longer than ${maxRunTagValueLength} characters`;
    if (controlCharacter.test(value)) return `${entry} holds a control character`;
    if (!value.isWellFormed()) return `${entry} is not well-formed text (a lone surrogate)`;
  }
  return undefined;
}

/** The tags, checked: refused with usage-invalid naming the problem. Empty tags are no tags. */
export function checkRunTags(tags: RunTagsV1 | undefined): [name: string, value: string][] {
  return checkedEntries(tags, 'run tags');
}

/**
 * A run query's tag filter (RunQueryV1.tags), checked by both stores before they query: refused
 * with usage-invalid naming the problem, by the rules a run's tags follow (no run could match a
 * tag that breaks them). Empty is no filter.
 */
export function checkRunTagFilter(tags: RunTagsV1 | undefined): [name: string, value: string][] {
  return checkedEntries(tags, 'run query: tags');
}

function checkedEntries(tags: RunTagsV1 | undefined, subject: string): [name: string, value: string][] {
  if (tags === undefined) return [];
  const problem = runTagsProblem(tags);
  if (problem !== undefined) throw new KeelError('usage-invalid', `${subject}: ${problem}`);
  return Object.entries(tags);
}

/**
 * `NAME=VALUE` texts (`keel runs --tag`, the admin API's `tag` parameter, each repeatable) as a
 * tag filter, split at the first `=`. Refused with usage-invalid, the message starting with
 * `what`: a text without `=`, a name given twice (a run has one value per tag, so two values
 * could match nothing), or a tag that breaks the rules.
 */
export function parseRunTagFilter(texts: readonly string[], what: string): RunTagsV1 {
  const entries: [string, string][] = [];
  for (const text of texts) {
    const equals = text.indexOf('=');
    if (equals < 0) throw new KeelError('usage-invalid', `${what} must be NAME=VALUE, such as project=search; got ${describe(text)}`);
    const entry: [string, string] = [text.slice(0, equals), text.slice(equals + 1)];
    // One entry at a time: an own property even for __proto__, which the rules then refuse.
    const problem = runTagsProblem(Object.fromEntries([entry]));
    if (problem !== undefined) throw new KeelError('usage-invalid', `${what} ${describe(text)}: ${problem}`);
    if (entries.some(([name]) => name === entry[0])) throw new KeelError('usage-invalid', `${what} names tag ${entry[0]} twice; a run has one value per tag`);
    entries.push(entry);
  }
  if (entries.length > maxRunTags) throw new KeelError('usage-invalid', `${what}: at most ${maxRunTags} tags, as a run carries, got ${entries.length}`);
  return Object.fromEntries(entries);
}

/** Whether the text has more than `limit` characters as people count them (code points), counting only when it must. */
function longerThan(value: string, limit: number): boolean {
  // A code point is one or two UTF-16 units.
  if (value.length <= limit) return false;
  if (value.length > 2 * limit) return true;
  return [...value].length > limit;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

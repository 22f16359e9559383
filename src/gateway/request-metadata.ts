/**
 * A request's metadata: the body's `metadata` (OpenAI's object of strings, Anthropic's `user_id`)
 * and the `keel-metadata` header (a JSON object, for any client), the header's entries over the
 * body's. It becomes the tags of the run the request opens (RunRecordV1.tags: spend by project,
 * feature or team), so it follows the tags' rules; anything else is one 400 naming the problem.
 */
// The narrow entry: the rules without the stores (serving on SQLite loads no PostgreSQL store).
import { maxRunTags, runTagsProblem } from '../store/run-tags.ts';
import type { RunTagWords } from '../store/run-tags.ts';
import { invalidRequest } from './gateway-failure.ts';
import type { PathStyle } from './request-issue.ts';

export const metadataHeader = 'keel-metadata';

const bodyWords: RunTagWords = { whole: 'metadata', entries: 'metadata entries', name: 'metadata key', entry: 'metadata' };
const headerWords: RunTagWords = { whole: `header ${metadataHeader}`, entries: `entries in header ${metadataHeader}`, name: `header ${metadataHeader}: key`, entry: `header ${metadataHeader}: entry` };
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body's metadata, checked: a 400 in the provider's manner names the field at fault. Empty is
 * none. Chat Completions and Responses send an object of strings; Messages its `user_id`.
 */
export function bodyMetadata(values: Readonly<Record<string, string>> | null | undefined, style: PathStyle): Record<string, string> | undefined {
  if (values === null || values === undefined) return undefined;
  const problem = runTagsProblem(values, bodyWords);
  if (problem !== undefined) {
    // Anthropic's body has one entry, user_id: the field is named whole.
    const field = style === 'openai' ? 'metadata' : `metadata.${Object.keys(values)[0] ?? 'user_id'}`;
    throw invalidRequest(style === 'openai' ? `Invalid value for '${field}': ${problem}.` : `${field}: ${problem}`, field, 'invalid_metadata');
  }
  return Object.keys(values).length === 0 ? undefined : { ...values };
}

/** The request's metadata: the header's entries over the body's (checked by bodyMetadata); undefined when it has none. */
export function requestMetadata(headers: Headers, body: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  const header = headerMetadata(headers);
  if (header === undefined) return body;
  const merged = { ...body, ...header };
  const count = Object.keys(merged).length;
  if (count > maxRunTags) {
    throw invalidRequest(`the body's metadata and header ${metadataHeader} hold ${count} entries together; at most ${maxRunTags} are allowed.`, metadataHeader, 'invalid_metadata');
  }
  return count === 0 ? undefined : merged;
}

function headerMetadata(headers: Headers): Record<string, string> | undefined {
  const raw = headers.get(metadataHeader);
  if (raw === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerText(raw));
  } catch {
    throw invalidRequest(`header ${metadataHeader} must be a JSON object of strings, such as {"project":"search"}; got ${JSON.stringify(raw.slice(0, 40))}`, metadataHeader, 'invalid_metadata');
  }
  const problem = runTagsProblem(parsed, headerWords);
  if (problem !== undefined) throw invalidRequest(`${problem}.`, metadataHeader, 'invalid_metadata');
  return parsed as Record<string, string>;
}

/**
 * A header's value as the client wrote it: HTTP hands over its bytes one character each (Latin-1),
 * so text beyond ASCII that a client sent as UTF-8 is decoded as such; bytes that are not UTF-8 are refused.
 */
function headerText(raw: string): string {
  let ascii = true;
  for (let index = 0; index < raw.length; index += 1) {
    const code = raw.charCodeAt(index);
    if (code > 0xff) throw new SyntaxError('a header value holds bytes, one character each');
    if (code > 0x7f) ascii = false;
  }
  if (ascii) return raw;
  return utf8.decode(Uint8Array.from(raw, (character) => character.charCodeAt(0)));
}

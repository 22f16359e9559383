export type FrontMatter = {
  /** Milliseconds since the epoch of the `updated:` date, when there is a valid one. */
  updatedMs?: number;
  /** The document without its front matter. */
  body: string;
};

const block = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const updatedLine = /^updated:[ \t]*["']?([^"'\r\n]+?)["']?[ \t]*$/m;
// ISO 8601 dates only: Date.parse of other formats is implementation-defined.
const isoDate = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads the `updated:` field of a YAML-style front-matter block. Only that field: the document's
 * age is all the retriever needs, and a full YAML parser is not worth a dependency for it.
 */
export function parseFrontMatter(text: string): FrontMatter {
  const match = block.exec(text);
  if (match === null) return { body: text };
  const body = text.slice(match[0].length);
  const updated = updatedLine.exec(match[1] ?? '')?.[1]?.trim();
  if (updated === undefined || !isoDate.test(updated)) return { body };
  // A date without a zone is read as UTC, never as the machine's local time.
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(updated) || !updated.includes(':') ? updated : `${updated}Z`;
  const updatedMs = Date.parse(withZone.replace(' ', 'T'));
  return Number.isFinite(updatedMs) ? { updatedMs, body } : { body };
}

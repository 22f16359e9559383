export type DocumentChunk = {
  /** The nearest heading above the chunk ('' before the first heading or in plain text). */
  heading: string;
  text: string;
};

const headingLine = /^#{1,6}[ \t]+(.*?)[ \t#]*$/;
const fenceLine = /^(```|~~~)/;

/**
 * Splits a document into retrievable chunks: one per markdown heading section, and a long section
 * into runs of whole paragraphs up to `maxCharacters` (a paragraph longer than that is cut at
 * whitespace). Each chunk of a section starts with its heading, so a chunk read alone says what it
 * is about. Headings inside code fences are code, not structure.
 */
export function chunkDocument(body: string, markdown: boolean, maxCharacters: number): DocumentChunk[] {
  const chunks: DocumentChunk[] = [];
  for (const section of markdown ? splitHeadings(body) : [{ heading: '', headingLine: '', text: body }]) {
    const paragraphs = section.text.split(/\r?\n[ \t]*\r?\n/).map((paragraph) => paragraph.trim()).filter((paragraph) => paragraph !== '');
    const prefix = section.headingLine === '' ? '' : `${section.headingLine}\n\n`;
    const room = Math.max(1, maxCharacters - prefix.length);
    let run = '';
    const flush = () => {
      if (run !== '') chunks.push({ heading: section.heading, text: prefix + run });
      run = '';
    };
    for (const paragraph of paragraphs.flatMap((paragraph) => splitLong(paragraph, room))) {
      if (run !== '' && run.length + 2 + paragraph.length > room) flush();
      run = run === '' ? paragraph : `${run}\n\n${paragraph}`;
    }
    // A heading with no text of its own (straight into a subheading) is not worth retrieving.
    flush();
  }
  return chunks;
}

function splitHeadings(body: string): { heading: string; headingLine: string; text: string }[] {
  const sections: { heading: string; headingLine: string; lines: string[] }[] = [{ heading: '', headingLine: '', lines: [] }];
  let inFence = false;
  for (const line of body.split(/\r?\n/)) {
    if (fenceLine.test(line)) inFence = !inFence;
    const heading = inFence ? null : headingLine.exec(line);
    if (heading !== null) sections.push({ heading: heading[1] ?? '', headingLine: line.trim(), lines: [] });
    else sections.at(-1)?.lines.push(line);
  }
  return sections.map((section) => ({ heading: section.heading, headingLine: section.headingLine, text: section.lines.join('\n') }));
}

function splitLong(paragraph: string, room: number): string[] {
  const pieces: string[] = [];
  let rest = paragraph;
  while (rest.length > room) {
    const space = rest.lastIndexOf(' ', room);
    let end = space > room / 2 ? space : room;
    const code = rest.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    pieces.push(rest.slice(0, end).trim());
    rest = rest.slice(end).trim();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

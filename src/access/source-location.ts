/** A place in a source file, 1-based, as editors show it. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Cedar reports locations as UTF-8 byte offsets (it is Rust); JavaScript strings count UTF-16
 * units. Decoding the bytes before the offset gives the text before it, whatever its characters.
 */
export function positionAtByteOffset(text: string, byteOffset: number): SourcePosition {
  const before = Buffer.from(text, 'utf8').subarray(0, Math.max(0, byteOffset)).toString('utf8');
  const lines = before.split('\n');
  const last = lines.at(-1) ?? '';
  return { line: lines.length, column: [...last].length + 1 };
}

/** The inverse for offsets JavaScript found (indexOf), so both kinds can be compared. */
export function byteOffsetOf(text: string, characterIndex: number): number {
  return Buffer.byteLength(text.slice(0, characterIndex), 'utf8');
}

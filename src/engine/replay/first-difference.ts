export interface TextDifference {
  offset: number;
  recorded: string;
  rebuilt: string;
}

/** Where two texts first differ, with a little context either side, for a one-line report. */
export function firstDifference(recorded: string, rebuilt: string, context = 40): TextDifference | undefined {
  if (recorded === rebuilt) return undefined;
  let offset = 0;
  while (offset < recorded.length && offset < rebuilt.length && recorded[offset] === rebuilt[offset]) offset += 1;
  const from = Math.max(0, offset - context);
  return { offset, recorded: recorded.slice(from, offset + context), rebuilt: rebuilt.slice(from, offset + context) };
}

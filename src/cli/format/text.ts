// Not an ES import: importing node:util builds its namespace, which loads worker_threads and
// util's diff into every CLI start (docs/architecture.md, CLI start-up).
const { stripVTControlCharacters, styleText } = process.getBuiltinModule('node:util');

export function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/** Integer micro-USD as dollars, with enough decimals that small calls do not read as $0.00. */
export function micros(value: number): string {
  const dollars = value / 1_000_000;
  return dollars >= 1 ? `$${dollars.toFixed(2)}` : `$${dollars.toFixed(6).replace(/0+$/, '').replace(/\.$/, '.00')}`;
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1_000)}s`;
}

/** 1234567 → "1,234,567". Grouped by hand: toLocaleString loads ICU's locale data, ~10 ms of start-up. */
export function count(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString('en-US');
  const digits = String(Math.abs(value));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let index = grouped.length; index < digits.length; index += 3) grouped += `,${digits.slice(index, index + 3)}`;
  return value < 0 ? `-${grouped}` : grouped;
}

export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

export type Painter = (style: 'green' | 'yellow' | 'red' | 'magenta' | 'dim' | 'bold' | 'cyan', text: string) => string;

export function painter(colour: boolean): Painter {
  return colour ? (style, text) => styleText(style, text) : (_style, text) => text;
}

const statusStyles = { ok: 'green', degraded: 'yellow', escalated: 'magenta', failed: 'red', running: 'cyan', queued: 'dim', waiting: 'cyan' } as const;

export function paintStatus(paint: Painter, status: string): string {
  return paint(statusStyles[status as keyof typeof statusStyles] ?? 'bold', status);
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: string[][], widths?: number[]): string {
  const visible = (text: string) => stripVTControlCharacters(text).length;
  const columns = widths ?? rows.reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, visible(cell))), []);
  return rows
    .map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (columns[index] ?? 0) - visible(cell))))).join('  '))
    .join('\n');
}

/** Integer micro-USD as dollars: $0.001574, $12.50. */
export function money(micros) {
  if (typeof micros !== 'number') return '';
  const dollars = micros / 1_000_000;
  return `$${Math.abs(dollars) >= 0.01 ? dollars.toFixed(2) : dollars.toFixed(6)}`;
}

/** An ISO time as `2026-12-03 07:52:22`, in UTC like the journal. */
export function time(iso) {
  return typeof iso === 'string' ? iso.replace('T', ' ').slice(0, 19) : '';
}

export function count(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : '';
}

/** Milliseconds as `850 ms`, `2.4 s`, `3 min`. */
export function duration(ms) {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** JSON for reading: indented, cut at `max` characters. */
export function json(value, max = 4_000) {
  const text = JSON.stringify(value, null, 2) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}

/** JSON on one line, cut at `max` characters. */
export function brief(value, max = 160) {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const endStatuses = new Set(['ok', 'degraded', 'escalated', 'failed']);

export function isEnded(status) {
  return endStatuses.has(status);
}

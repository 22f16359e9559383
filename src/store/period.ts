/**
 * Instants bounding when runs were created: a spend query's period (spend-query.ts), a run
 * listing's (RunQueryV1.since/until), and `keel spend`/`keel runs` and the admin API checking theirs
 * before they ask. One parser and one wording, so every one of them takes the same forms.
 */
import { KeelError } from '../errors/index.ts';

/** Bounds as a store compares them, each ISO-8601 UTC with milliseconds (Date.toISOString), as every run's created_at is kept. */
export interface CheckedPeriod {
  since?: string;
  until?: string;
}

// A date and a time with its zone (Z or an offset); seconds and their fraction optional.
const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * The period's bounds in the journal's time form; either may be absent (no bound). Refused with
 * usage-invalid: a bound that is no ISO-8601 time with its zone, or since after until (equal is an
 * empty period). `names` are how the message names the bounds (`--since`, `since`), after `prefix`.
 */
export function checkPeriod(period: { since?: unknown; until?: unknown }, names: { since: string; until: string }, prefix = ''): CheckedPeriod {
  const since = period.since === undefined ? undefined : checkInstant(period.since, `${prefix}${names.since}`);
  const until = period.until === undefined ? undefined : checkInstant(period.until, `${prefix}${names.until}`);
  // Four-digit years and milliseconds: the checked forms compare as text as they do as times.
  if (since !== undefined && until !== undefined && since > until) {
    throw new KeelError('usage-invalid', `${prefix}${names.since} ${String(period.since)} is after ${names.until} ${String(period.until)}`);
  }
  return { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
}

/**
 * The instant in the journal's time form (`name` says which in a refusal). A fraction finer than a
 * millisecond is rounded up: created_at is kept to the millisecond, so a run at millisecond t is
 * at or after since (and before until) exactly when t is at or after the rounded-up bound.
 */
export function checkInstant(value: unknown, name: string): string {
  const match = typeof value === 'string' ? isoDateTime.exec(value) : null;
  const problem = `${name} must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got ${describe(value)}`;
  if (match === null) throw new KeelError('usage-invalid', problem);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const fraction = match[7] ?? '';
  const sign = match[8] === '-' ? -1 : 1;
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  const milliseconds = Number(fraction.slice(0, 3).padEnd(3, '0')) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // A day the month does not have (00, or 30 February) moves the date into another month.
  const fieldsValid = date.getUTCMonth() === month - 1 && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!fieldsValid) throw new KeelError('usage-invalid', problem);
  const at = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + milliseconds - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  // Outside years 0000-9999 toISOString writes a sign and six digits, which no stored time compares with as text.
  const checked = new Date(at).toISOString();
  if (!/^\d{4}-/.test(checked)) throw new KeelError('usage-invalid', `${name} ${describe(value)} is outside the years 0000 to 9999 in UTC`);
  return checked;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
}

/** A run query's period (RunQueryV1.since and until), as both stores check it before they query. */
export function checkRunQueryPeriod(query: { since?: unknown; until?: unknown }): CheckedPeriod {
  return checkPeriod(query, { since: 'since', until: 'until' }, 'run query: ');
}

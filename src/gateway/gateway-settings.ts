import { KeelError } from '../errors/index.ts';

/** The longest wait a timer can hold (2^31 - 1 ms, about 24.8 days): Node fires a longer one after 1 ms. */
export const longestTimerMs = 2_147_483_647;

/**
 * Checks a numeric setting of the gateway (a limit in bytes, a wait in ms) where it is given: a
 * whole number from `minimum` up to `maximum`, or undefined for its default. Anything else
 * (a fraction, NaN, a string, a wait longer than a timer holds) is one `usage-invalid` naming the
 * setting, its unit and what it got, before anything is opened.
 */
export function wholeSetting(name: string, value: unknown, unit: 'ms' | 'bytes', range: { minimum: number; maximum?: number }): number | undefined {
  if (value === undefined) return undefined;
  const maximum = range.maximum ?? (unit === 'ms' ? longestTimerMs : Number.MAX_SAFE_INTEGER);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.minimum || value > maximum) {
    const got = typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value) : typeof value;
    throw new KeelError('usage-invalid', `the gateway's ${name} must be a whole number of ${unit} from ${range.minimum} to ${maximum}; got ${got}`);
  }
  return value;
}

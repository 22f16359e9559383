import { KeelError } from '../errors/index.ts';

/**
 * Checks a numeric option's text before anything runs: decimal digits only (no sign, exponent,
 * fraction or spaces), within [min, max]. `Number('1e20')` is an integer too, and `Number('')` is
 * 0, so the text is checked, not the number.
 */
export function checkWholeNumber(option: string, text: string, range: { min: number; max: number }): number {
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw new KeelError('usage-invalid', `--${option} must be a whole number from ${range.min} to ${range.max}; got ${JSON.stringify(text)}`);
  }
  return value;
}

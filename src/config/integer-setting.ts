import { z } from 'zod';
import { describeValue } from './issue-wording.ts';

/**
 * An integer setting with its unit in every message, so `2.5` for a price reads as "must be an
 * integer (micro-USD per million tokens), got 2.5": money and limits are never fractional.
 */
export function integerSetting(unit: string, minimum: number) {
  return z
    .int({ error: (issue) => (issue.input === undefined ? undefined : `must be an integer (${unit}), got ${describeValue(issue.input)}`) })
    .min(minimum, { error: (issue) => `must be ≥ ${minimum} (${unit}), got ${describeValue(issue.input)}` });
}

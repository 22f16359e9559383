/** The window a key's budget is counted in: each run, the UTC day or month, or the minute (tokens per minute). */
export type KeyBudgetWindow = 'run' | 'day' | 'month' | 'minute';

/**
 * The budget book's account of a key in the window that holds `time` (an ISO time, UTC): what the
 * ledger reserves against, and what a report of the key's spend reads (gateway/key-usage.ts).
 * Apart from the ledger so that a read command can name an account without loading it.
 */
export function keyBudgetScope(keyId: string, window: KeyBudgetWindow, runId: string, time: string): string {
  return `key:${keyId}:${keyWindow(window, runId, time)}`;
}

function keyWindow(window: KeyBudgetWindow, runId: string, time: string): string {
  switch (window) {
    case 'run':
      return `run:${runId}`;
    case 'day':
      return `day:${time.slice(0, 10)}`;
    case 'month':
      return `month:${time.slice(0, 7)}`;
    case 'minute':
      return `minute:${time.slice(0, 16)}`;
  }
}

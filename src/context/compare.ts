/**
 * Orderings that are the same on every machine: strings by UTF-16 code unit (never localeCompare,
 * whose answer depends on the ICU data and locale of the process).
 */
export function compareCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export function compareNumbers(left: number, right: number): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

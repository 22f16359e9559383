/**
 * Orders tool versions: dot-separated numbers compare numerically (1.10 after 1.9), anything else
 * by text. Good enough for `1`, `2.3.0`, `2024-06-01`; a pre-release tag sorts by text.
 */
export function compareVersions(left: string, right: string): number {
  const leftParts = left.split('.');
  const rightParts = right.split('.');
  for (let index = 0; index < Math.max(leftParts.length, rightParts.length); index += 1) {
    const leftPart = leftParts[index] ?? '0';
    const rightPart = rightParts[index] ?? '0';
    const bothNumbers = /^\d+$/.test(leftPart) && /^\d+$/.test(rightPart);
    const order = bothNumbers ? Number(leftPart) - Number(rightPart) : leftPart < rightPart ? -1 : leftPart > rightPart ? 1 : 0;
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}

/** Integer cents as the demo's customers read them: `$42.00`. */
export function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

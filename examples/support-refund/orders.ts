/** The shop's order system of record: a few orders that between them reach every ending of a run. */
export interface Order {
  id: string;
  /** The tenant (shop) the order belongs to. */
  tenant: string;
  /** The principal of the customer who placed it: only their agent may read or refund it. */
  customerId: string;
  customerName: string;
  category: 'apparel' | 'electronics' | 'home';
  totalCents: number;
  /** Days since delivery, fixed so every run of the demo sees the same ages. */
  deliveredDaysAgo: number;
}

export const shopTenant = 'acme-shop';

const order = (id: string, customerId: string, customerName: string, category: Order['category'], totalCents: number, deliveredDaysAgo: number): Order => ({
  id,
  tenant: shopTenant,
  customerId,
  customerName,
  category,
  totalCents,
  deliveredDaysAgo,
});

export const orders: ReadonlyMap<string, Order> = new Map(
  [
    order('A-1001', 'user:maya', 'Maya Chen', 'apparel', 4_200, 12),
    order('A-1002', 'user:tom', 'Tom Okafor', 'home', 8_900, 64),
    order('A-1003', 'user:lena', 'Lena Fischer', 'home', 125_000, 3),
    order('A-1004', 'user:ravi', 'Ravi Patel', 'electronics', 19_900, 9),
    order('A-1005', 'user:sofia', 'Sofia Rossi', 'apparel', 6_500, 20),
  ].map((entry) => [entry.id, entry]),
);

/** Integer cents as customers read them: `$42.00`. */
export function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

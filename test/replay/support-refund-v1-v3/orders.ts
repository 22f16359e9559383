/** The demo's order system of record: a few orders that exercise every ending of a run. */
export interface Order {
  id: string;
  customer: string;
  category: 'apparel' | 'electronics' | 'home';
  totalCents: number;
  /** Days since delivery at the demo's reference date. */
  deliveredDaysAgo: number;
}

export const orders: Record<string, Order> = {
  'A-1001': { id: 'A-1001', customer: 'Maya Chen', category: 'apparel', totalCents: 4_200, deliveredDaysAgo: 12 },
  'A-1002': { id: 'A-1002', customer: 'Tom Okafor', category: 'home', totalCents: 8_900, deliveredDaysAgo: 64 },
  'A-1003': { id: 'A-1003', customer: 'Lena Fischer', category: 'home', totalCents: 125_000, deliveredDaysAgo: 3 },
  'A-1004': { id: 'A-1004', customer: 'Ravi Patel', category: 'electronics', totalCents: 19_900, deliveredDaysAgo: 9 },
  'A-1005': { id: 'A-1005', customer: 'Sofia Rossi', category: 'apparel', totalCents: 6_500, deliveredDaysAgo: 20 },
};

/** The demo's payments API is down for this order's processor, to show a failure ending. */
export const paymentsOutageOrders = new Set(['A-1005']);

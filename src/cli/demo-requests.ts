/**
 * `keel demo --count N`: N support requests, varied and seeded (by --seed), for recording enough
 * runs to pin a dataset and evaluate a model on it. Each request is one of the demo shop's
 * customers writing about their order (or forgetting its number), in one of several wordings; about
 * a third continue an earlier conversation of the same customer (same `session`), so evaluations
 * have clusters of related items to resample together.
 */
import { seededRandom } from '../models/index.ts';

export interface DemoRequest {
  customer: string;
  message: string;
  session: string;
}

const customers = [
  { customer: 'user:maya', order: 'A-1001', item: 'jacket', reason: "doesn't fit" },
  { customer: 'user:tom', order: 'A-1002', item: 'lamp', reason: 'is not what I expected' },
  { customer: 'user:lena', order: 'A-1003', item: 'sofa', reason: 'arrived damaged' },
  { customer: 'user:ravi', order: 'A-1004', item: 'headphones', reason: 'stopped working' },
  { customer: 'user:sofia', order: 'A-1005', item: 'scarf', reason: 'is the wrong colour' },
] as const;

const wordings: ((order: string, item: string, reason: string) => string)[] = [
  (order, item, reason) => `Hi, the ${item} from order ${order} ${reason}. Can I get a refund?`,
  (order, item) => `I would like to return the ${item} from order ${order}.`,
  (order, item, reason) => `Please refund order ${order}, the ${item} ${reason}.`,
  (order) => `Refund order ${order} please.`,
  (order, item, reason) => `Hello! My ${item} (order ${order}) ${reason}. What can you do?`,
  (order, item) => `Could you refund me for the ${item}? Order number ${order}.`,
  (order, item, reason) => `Order ${order}: the ${item} ${reason}, I want my money back.`,
  (order) => `Is order ${order} still eligible for a refund?`,
];

const withoutOrder = ['Hi, I want a refund for something I bought.', 'Can I return an item? I lost the receipt.', 'How do refunds work here?'];

export function demoRequests(count: number, seed: number): DemoRequest[] {
  const random = seededRandom(seed ^ 0x2f6b_3a91);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const requests: DemoRequest[] = [];
  for (let index = 0; index < count; index += 1) {
    const earlier = requests.length > 0 && random() < 0.35 ? pick(requests) : undefined;
    const who = earlier === undefined ? pick(customers) : (customers.find((entry) => entry.customer === earlier.customer) ?? pick(customers));
    const session = earlier?.session ?? `demo-${seed}-${index + 1}`;
    // The exact wording (a number of the request in the text) keeps every message distinct.
    const message = random() < 0.06 ? `${pick(withoutOrder)} (request ${index + 1})` : `${pick(wordings)(who.order, who.item, who.reason)} (request ${index + 1})`;
    requests.push({ customer: who.customer, message, session });
  }
  return requests;
}

import { fileURLToPath } from 'node:url';
import type { Grant } from '../grants.ts';
import type { PolicyEntity, PolicyRequest } from '../policy-request.ts';

/** The repository's policies/ folder: the starter set the demo runs under. */
export const starterPolicyDirectory = fileURLToPath(new URL('../../../policies/', import.meta.url));

export const tenant = 'acme';

export const maya: PolicyEntity = { type: 'User', id: 'maya', attributes: { tenant }, parents: [{ type: 'Role', id: 'customer' }] };

export function order(id: string, options: { tenant?: string; totalCents?: number; customer?: string } = {}): PolicyEntity {
  return {
    type: 'Order',
    id,
    attributes: { tenant: options.tenant ?? tenant, customer: { type: 'User', id: options.customer ?? 'maya' }, totalCents: options.totalCents ?? 125_000, labels: [] },
  };
}

/** The grants of a support-refund run for order 42. */
export const order42Grants: Grant[] = [
  { action: 'issue-refund', resource: { type: 'Order', id: '42' } },
  { action: 'read', resource: { type: 'Order', id: '42' } },
];

export function readOrder(resource: PolicyEntity, grants: readonly Grant[] = order42Grants): PolicyRequest {
  return { principal: maya, action: 'read', resource, context: { task: 'support-refund', tenant }, grants };
}

export function refund(resource: PolicyEntity, amountCents: number, grants: readonly Grant[] = order42Grants): PolicyRequest {
  return { principal: maya, action: 'issue-refund', resource, context: { task: 'support-refund', tenant, amountCents }, grants };
}

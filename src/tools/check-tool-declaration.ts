import { KeelError } from '../errors/index.ts';
import type { AnyToolV1, RateWindowV1 } from '../spec/index.ts';

/** The widest name every major provider accepts for a function tool. */
const toolNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;

/** Rejects a tool whose governance cannot be enforced as written, at registration rather than mid-run. */
export function checkToolDeclaration(tool: AnyToolV1): void {
  const problem = problemOf(tool);
  if (problem !== undefined) throw new KeelError('config-invalid', `tool ${tool.name}@${tool.version}: ${problem}`);
}

function problemOf(tool: AnyToolV1): string | undefined {
  if (!toolNamePattern.test(tool.name)) return 'name must be 1-64 letters, digits, _ or -';
  if (tool.version.trim() === '') return 'version is empty';
  if (tool.owner.trim() === '') return 'owner is empty';
  if (!['read', 'write', 'irreversible'].includes(tool.sideEffect)) return `side effect '${String(tool.sideEffect)}' is not read, write or irreversible`;
  if (tool.scopes.some((scope) => scope.trim() === '')) return 'a scope is empty';
  if (!(Number.isFinite(tool.timeoutMs) && tool.timeoutMs > 0)) return `timeoutMs must be a positive number, got ${tool.timeoutMs}`;
  for (const [label, window] of [['perTenant', tool.rateLimit?.perTenant], ['perTool', tool.rateLimit?.perTool]] as const) {
    if (window !== undefined && !isValidWindow(window)) return `rateLimit.${label} needs a positive integer limit and a positive windowMs`;
  }
  const ids = (tool.constraints ?? []).map((constraint) => constraint.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) return `constraint id '${repeated}' is used twice`;
  return undefined;
}

function isValidWindow(window: RateWindowV1): boolean {
  return Number.isInteger(window.limit) && window.limit > 0 && Number.isFinite(window.windowMs) && window.windowMs > 0;
}

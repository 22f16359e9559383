import type { z } from 'zod';
import type { ToolValidationError } from './tool-call-outcome.ts';

/** Zod issues as a model can act on them: where, what, and a stable code. */
export function validationErrorsOf(error: z.ZodError): ToolValidationError[] {
  return error.issues.map((issue) => ({ path: jsonPathOf(issue.path), message: issue.message, code: issue.code }));
}

export function jsonPathOf(path: readonly PropertyKey[]): string {
  let text = '$';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

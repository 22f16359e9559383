import { KeelError } from '../errors/index.ts';
import type { ContextItem, ContextLabels, PromptTemplate } from './context-spec.ts';

export type TemplateVariables = Readonly<Record<string, string | number | boolean>>;

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/**
 * Fills every `{{variable}}` in one pass. Strict: a missing variable is an error naming it, never an
 * empty string, because a prompt with a silent hole is the "looks complete but isn't" failure. One
 * pass, so a value that itself contains `{{…}}` (user text, say) is inserted literally, not expanded.
 */
export function renderTemplate(template: PromptTemplate, variables: TemplateVariables): string {
  const missing = new Set<string>();
  const text = template.text.replace(placeholder, (_match, name: string) => {
    if (!Object.hasOwn(variables, name)) {
      missing.add(name);
      return '';
    }
    return String(variables[name]);
  });
  if (missing.size > 0) {
    const names = [...missing];
    throw new KeelError('template-variable-missing', `template ${template.id}@${template.version} is missing variable${names.length === 1 ? '' : 's'} ${names.map((name) => `"${name}"`).join(', ')}`, {
      details: { template: template.id, version: template.version, missing: names },
    });
  }
  return text;
}

/** A rendered template as an instructions item; its version is the template's. */
export function templateItem(template: PromptTemplate, variables: TemplateVariables, labels: ContextLabels = { tenants: [], origins: ['system'] }): ContextItem {
  return { source: 'template', id: template.id, version: template.version, text: renderTemplate(template, variables), labels, role: 'system' };
}

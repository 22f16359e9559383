import { closeSync, openSync, readSync } from 'node:fs';
import { KeelError } from '../errors/index.ts';
import { configSchema } from './config-schema.ts';
import type { KeelConfig } from './config-schema.ts';
import { configErrorMap, issueLine } from './issue-wording.ts';

/**
 * The largest config file accepted. Routes, prices, budgets, SLAs and alerts for a large
 * deployment fit in a few tens of kilobytes; a file of megabytes is a mistake (or an attack) and
 * would take long to validate, so it is refused before it is parsed.
 */
export const maxConfigBytes = 1024 * 1024;

/**
 * Reads and validates a config file. Synchronous: it runs once, at start, before anything else
 * can usefully happen. Only the file is checked here; keys and prices are checked by
 * buildGovernance, which needs the environment.
 */
export function loadConfig(path: string): KeelConfig {
  let text: string;
  try {
    text = readBounded(path);
  } catch (error) {
    if (error instanceof KeelError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeelError('config-invalid', `config file ${path} not found`, { cause: error });
    throw new KeelError('config-invalid', `config file ${path} could not be read: ${oneLine(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message carries the position as "(line 3 column 1)" when it knows it.
    throw new KeelError('config-invalid', `${path} is not valid JSON: ${oneLine(error)}`, { cause: error });
  }
  return parseConfig(value, path);
}

/** Validates an in-memory config; `source` names it in messages. The first problem is reported. */
export function parseConfig(value: unknown, source: string): KeelConfig {
  const result = configSchema.safeParse(value, { error: configErrorMap });
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const message = first === undefined ? `${source}: invalid config` : issueLine(first, source);
  throw new KeelError('config-invalid', message, { details: { issues: result.error.issues.map((issue) => issueLine(issue, source)) } });
}

/**
 * Reads at most one byte past the limit, so the size is known without trusting `stat` (a pipe or
 * a device such as /dev/zero has no size, and is read the same way).
 */
function readBounded(path: string): string {
  const descriptor = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(maxConfigBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(descriptor, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxConfigBytes) {
        throw new KeelError('config-invalid', `config file ${path} is larger than ${maxConfigBytes / 1024 / 1024} MB, the most Keel reads; a config this size is not a config`);
      }
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(descriptor);
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';

/** What a tasks module serves: agents (bound to the deployment by createKeel) and plain tasks. */
export type ServedDefinition = AgentDefinition | TaskDefinition<never, never>;

/**
 * Where the tasks module is: `--tasks` (relative to the working directory), else KEEL_TASKS, else
 * the config file's `tasks` (relative to the config file). Undefined when none names one.
 */
export function tasksModulePath(option: string | undefined, environment: NodeJS.ProcessEnv, config?: { path: string; value: KeelConfig }): string | undefined {
  const given = option ?? environment.KEEL_TASKS;
  if (given !== undefined) {
    if (given.trim() === '') throw new KeelError('tasks-invalid', `${option === undefined ? 'KEEL_TASKS' : '--tasks'} is empty; name a JavaScript or TypeScript module`);
    return resolve(given);
  }
  return config?.value.tasks === undefined ? undefined : resolve(dirname(resolve(config.path)), config.value.tasks);
}

/**
 * Imports a tasks module and collects what it serves: every export that is an agent or a task
 * definition, or an array of them. A missing file, a module that throws on import or one that
 * exports nothing servable stops the command in one line.
 */
export async function loadTasksModule(path: string): Promise<ServedDefinition[]> {
  if (!existsSync(path)) throw new KeelError('tasks-invalid', `tasks module ${path} not found`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new KeelError('tasks-invalid', `tasks module ${path} failed to load: ${message.split('\n')[0]}`, { cause: error });
  }
  const { isAgentDefinition } = await import('../agent/index.ts');
  const isServable = (value: unknown): value is ServedDefinition => {
    if (isAgentDefinition(value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    const candidate = value as Record<string, unknown>;
    return typeof candidate.name === 'string' && typeof candidate.version === 'string' && typeof candidate.run === 'function';
  };
  // A definition exported twice (by name and in the default array) is served once.
  const served = new Set<ServedDefinition>();
  for (const value of Object.values(exports)) {
    for (const candidate of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (isServable(candidate)) served.add(candidate);
    }
  }
  if (served.size === 0) {
    throw new KeelError('tasks-invalid', `tasks module ${path} exports no agent or task (export what defineAgent or defineTask returns, or an array of them)`);
  }
  return [...served];
}

import { canonicalJson, sha256 } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { TaskDefinition } from './task.ts';

/** What a run records about the code that shapes it: task, version and declared configuration. */
export function taskConfiguration(task: Pick<TaskDefinition, 'name' | 'version' | 'config'>): { task: string; version: string; config: JsonValue } {
  return { task: task.name, version: task.version, config: task.config ?? null };
}

/** The hash `run-start` carries, and that a process must match to continue the run. */
export function taskConfigHash(task: Pick<TaskDefinition, 'name' | 'version' | 'config'>): string {
  return configurationHash(taskConfiguration(task));
}

/** The same hash, of a configuration already taken from its task (`taskConfiguration`). */
export function configurationHash(configuration: { task: string; version: string; config: JsonValue }): string {
  return sha256(canonicalJson(configuration));
}

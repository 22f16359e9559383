import { KeelError } from '../errors/index.ts';
import type { TaskDefinition } from './task.ts';

/**
 * Every version of every task this process serves. New runs start on a task's current version
 * (the last one registered); a run is resumed and replayed only by the version that recorded it,
 * so changing a task's steps means adding a version, while old runs keep their code.
 */
export class TaskCatalog {
  readonly #versions = new Map<string, Map<string, TaskDefinition>>();
  readonly #current = new Map<string, TaskDefinition>();

  // Task definitions are invariant in their input type; the catalog only passes JSON through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(tasks: readonly TaskDefinition<any, any>[] = []) {
    for (const task of tasks) this.register(task as TaskDefinition);
  }

  register(task: TaskDefinition): void {
    const versions = this.#versions.get(task.name) ?? new Map<string, TaskDefinition>();
    if (versions.has(task.version)) throw new KeelError('config-invalid', `task ${task.name} version ${task.version} is registered twice`);
    versions.set(task.version, task);
    this.#versions.set(task.name, versions);
    this.#current.set(task.name, task);
  }

  current(name: string): TaskDefinition {
    const task = this.#current.get(name);
    if (task === undefined) throw new KeelError('task-unknown', `no task named ${name} (known: ${[...this.#current.keys()].join(', ') || 'none'})`);
    return task;
  }

  find(name: string, version: string): TaskDefinition | undefined {
    return this.#versions.get(name)?.get(version);
  }

  serves(name: string): boolean {
    return this.#versions.has(name);
  }

  /** Every task served, by name. */
  names(): string[] {
    return [...this.#versions.keys()];
  }

  versionsOf(name: string): string[] {
    return [...(this.#versions.get(name)?.keys() ?? [])];
  }
}

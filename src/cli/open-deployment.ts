import type { Keel } from '../agent/index.ts';
import { KeelError } from '../errors/index.ts';
import type { SimulatorScript } from '../models/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { openStore } from '../store/index.ts';
import type { CommandContext } from './command.ts';
import { loadTasksModule, tasksModulePath } from './tasks-module.ts';

/** This process's Keel: the store, and the tasks it serves (the tasks module's, or else the demo's). */
export interface Deployment {
  readonly keel: Keel;
  /** The tasks module served; undefined when the demo's tasks are. */
  readonly tasksModule: string | undefined;
  readonly taskNames: string[];
  /** The demo agent's simulator script, when the demo is served: `sim:` candidates of a replay follow it. */
  readonly demoScript: SimulatorScript | undefined;
  close(): Promise<void>;
}

/**
 * Opens the store and binds the served tasks to it. The tasks module and the config are loaded
 * first, so a bad one stops the command before a database is created. Without a tasks module the
 * demo's agent is served (examples/support-refund; see demo-agent.ts).
 */
export async function openDeployment(
  context: CommandContext,
  // `observe`: what the deployment writes through instead of the store itself (keel worker's metrics).
  options: { create: boolean; replay?: boolean; task?: string; observe?: (store: StoreV1) => StoreV1 },
): Promise<Deployment> {
  const { environment } = context;
  const configPath = context.options.config ?? environment.KEEL_CONFIG;
  // Loaded on demand, like the rest of what serves tasks: a bad --tasks path fails before the model SDKs load.
  const config = configPath === undefined ? undefined : (await import('../config/index.ts')).loadConfig(configPath);
  const modulePath = tasksModulePath(context.options.tasks, environment, configPath === undefined || config === undefined ? undefined : { path: configPath, value: config });
  const served = modulePath === undefined ? undefined : await loadTasksModule(modulePath);
  const { createKeel } = await import('../agent/index.ts');
  const demo = served === undefined ? await (await import('./demo-agent.ts')).openDemoAgent(context, config, { replay: options.replay === true }) : undefined;
  try {
    const names = [...new Set((served ?? (demo === undefined ? [] : [demo.agent])).map((definition) => definition.name))];
    // Checked before the store is opened: asking for a task nobody serves creates no database.
    if (options.task !== undefined && !names.includes(options.task)) {
      const from = modulePath === undefined ? "the demo's tasks; name a tasks module with --tasks" : modulePath;
      throw new KeelError('task-unknown', `this process does not serve task ${options.task} (serving ${names.join(', ') || 'none'} from ${from})`);
    }
    const store = await openStore({ database: context.options.db, create: options.create, readOnly: options.replay === true, environment });
    try {
      const keel = await createKeel({
        store: options.observe === undefined ? store : options.observe(store),
        environment,
        agents: served ?? (demo === undefined ? [] : [demo.agent]),
        ...(config === undefined ? {} : { config }),
      });
      return {
        keel,
        tasksModule: modulePath,
        taskNames: keel.engine.tasks.names(),
        demoScript: demo?.supportScript,
        close: async () => {
          try {
            await keel.close();
          } finally {
            await store.close();
            demo?.close();
          }
        },
      };
    } catch (error) {
      await store.close();
      throw error;
    }
  } catch (error) {
    demo?.close();
    throw error;
  }
}

import type { RunRecordV1 } from '../spec/index.ts';
import type { Deployment } from './open-deployment.ts';

/** Open runs of tasks this process does not serve: it leaves them for a worker that does. */
export async function unservedRuns(deployment: Deployment): Promise<RunRecordV1[]> {
  const open = await deployment.keel.store.listRuns({ statuses: ['queued', 'running', 'waiting'], limit: 100_000 });
  return open.filter((run) => !deployment.keel.serves(run.task));
}

/** Says where the served tasks come from, for lines about the ones that are not served. */
export function servedFrom(deployment: Deployment): string {
  const names = deployment.taskNames.join(', ') || 'none';
  return deployment.tasksModule === undefined ? `serving the demo's ${names}; --tasks names a module` : `serving ${names} from ${deployment.tasksModule}`;
}

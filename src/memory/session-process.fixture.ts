/** Run by memory.test.ts in a separate process: reads a session from a SQLite file, then adds to it. */
import { SqliteStore } from '../store/index.ts';
import { SessionMemory } from './index.ts';

const [path = '', tenant = '', sessionId = ''] = process.argv.slice(2);
const store = SqliteStore.open({ path, create: false });
const memory = new SessionMemory({ store, tenant, sessionId });
const items = await memory.items();
await memory.remember(`child saw ${items.length} items`, { role: 'assistant', source: { runId: 'child-run', step: 1 } });
process.stdout.write(JSON.stringify(items));
await store.close();

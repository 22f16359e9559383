import { runSubjectKeyConformance } from '../conformance/index.ts';
import { PostgresStore } from './index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';

// Two stores on one schema: two pools, as two workers would hold.
runSubjectKeyConformance(
  'postgres',
  'skipReason' in database
    ? { skip: database.skipReason }
    : async () => {
        const schema = uniqueSchemaName('keel_subject_keys');
        const first = await PostgresStore.open({ url, schema });
        const second = await PostgresStore.open({ url, schema });
        return {
          first: first.subjectKeys,
          second: second.subjectKeys,
          dispose: async () => {
            await Promise.all([first.close(), second.close()]);
            await dropSchema(url, schema);
          },
        };
      },
);

/**
 * Finds a PostgreSQL server for tests, or says why there is none so tests skip visibly.
 * Each test gets its own schema, so suites share one database without seeing each other.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { parseConnectionUrl } from './connection-url.ts';
import { quoteIdentifier } from './sql-identifiers.ts';

const localCandidates = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

export async function openTestPostgres(): Promise<{ url: string } | { skipReason: string }> {
  const configured = process.env.KEEL_TEST_POSTGRES_URL;
  if (configured !== undefined && configured !== '') {
    const failure = await probe(configured);
    return failure === undefined ? { url: configured } : { skipReason: `KEEL_TEST_POSTGRES_URL is not reachable: ${failure}` };
  }
  const failures: string[] = [];
  for (const url of localCandidates) {
    const failure = await probe(url);
    if (failure === undefined) return { url };
    failures.push(failure);
  }
  return { skipReason: `no PostgreSQL reachable at 127.0.0.1:5432 and KEEL_TEST_POSTGRES_URL unset (${failures.join('; ')})` };
}

/** A fresh, valid schema name: prefix, process id and random suffix. */
export function uniqueSchemaName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1').slice(0, 40);
  return `${clean}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  });
}

/** Runs `work` on a short-lived connection of its own, outside any store's pool. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * How many of a table's indexes have a definition containing `columns` (e.g. "(status, created_at, id)").
 * The definitions are filtered here, not by a LIKE on pg_indexes.indexdef: PostgreSQL may evaluate
 * that condition, and so pg_get_indexdef, on every index of the database before the schema's, and it
 * fails ("could not open relation with OID") on an index another test file drops meanwhile.
 */
export async function countIndexes(client: Client, schema: string, table: string, columns: string): Promise<number> {
  const result = await client.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [schema, table]);
  return result.rows.filter((row) => row.indexdef.includes(columns)).length;
}

async function probe(url: string): Promise<string | undefined> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return undefined;
  } catch (error) {
    return `${redact(url)}: ${error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error)}`;
  }
}

function redact(url: string): string {
  try {
    return parseConnectionUrl(url).redactedUrl;
  } catch {
    return 'an unparsable URL';
  }
}

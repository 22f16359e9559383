import { KeelError } from '../../errors/index.ts';

// Lower-case, unquoted-style names only: they read the same in psql with or without quotes.
const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(name: string): string {
  if (!schemaNamePattern.test(name)) {
    throw new KeelError('config-invalid', `PostgreSQL schema name ${JSON.stringify(name)} must match ${schemaNamePattern.source}`);
  }
  return name;
}

/** Quotes an identifier for SQL text; names are checked too, but quoting keeps SQL safe regardless. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

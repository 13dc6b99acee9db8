/**
 * The only file that loads DuckDB (an in-process engine shipped by @duckdb/node-api): an in-memory
 * database, some setup statements, one query, rows as JSON-safe objects. Loaded lazily by
 * `fleet query` alone, so no other command pays for the engine.
 */
import { AgentError, describeError } from '../errors.js';

export type QueryRow = Record<string, string | number | boolean | null>;

export async function runDuckdb(setup: readonly string[], sql: string): Promise<{ columns: string[]; rows: QueryRow[] }> {
  const { DuckDBInstance } = await import('@duckdb/node-api').catch((error: unknown) => {
    // the server artefact leaves the 68 MB engine out (package.json bundleDependencies): a workstation installs it
    throw new AgentError('internal', `fleet query needs DuckDB, which this installation lacks (${describeError(error)}): run it from a checkout after \`npm ci\`, or \`npm install @duckdb/node-api\` beside the agent`);
  });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const statement of setup) await connection.run(statement);
    const reader = await connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as QueryRow[] };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { AgentError } from '../errors.js';
import { runDuckdb } from '../adapters/duckdb.js';
import { duckdbSetup } from '../analytics/duckdb-views.js';
import { queryNames, querySql } from '../analytics/queries.js';
import { formatQueryTable } from '../analytics/format.js';

/**
 * `agent fleet query NAME --reports DIR [--json]` (SPEC §11): one of Athena's named queries, run on
 * DuckDB over a local copy of reports/. Exit 0 with the rows, 1 when DIR holds no report or the query fails.
 */
export async function fleetQueryCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const name = command.positionals[1]!;
  const sql = querySql(name);
  if (!sql) throw new AgentError('usage', `fleet query: unknown query "${name}"; expected one of ${queryNames().join(', ')}`);
  const dir = resolve(String(command.values.reports));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.stderr.write(`agent: fleet query: --reports ${dir}: expected a directory holding dt=YYYY-MM-DD/ folders (a copy of the bucket's reports/)\n`);
    return 1;
  }
  let result: Awaited<ReturnType<typeof runDuckdb>>;
  try {
    result = await runDuckdb(duckdbSetup(dir), sql);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    const hint = /No files found/i.test(message ?? '') ? ` (no dt=*/<instance>/*.json report under ${dir})` : '';
    io.stderr.write(`agent: fleet query ${name}: ${message}${hint}\n`);
    return 1;
  }
  io.stdout.write(command.values.json ? `${JSON.stringify({ query: name, columns: result.columns, rows: result.rows }, null, 2)}\n` : formatQueryTable(result.columns, result.rows));
  return 0;
}

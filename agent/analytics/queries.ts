import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The named queries of ami/athena/queries/ (one .sql file each, the file name is the NAME): the very
 * files an operator pastes into Athena are the ones `agent fleet query NAME` runs on DuckDB.
 */
const CANDIDATES = ['../../ami/athena/queries/', '../../../ami/athena/queries/'];

export function queriesDir(): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`the named queries are missing: looked for ami/athena/queries/ from ${fileURLToPath(import.meta.url)}`);
}

export function queryNames(): string[] {
  return readdirSync(queriesDir()).filter((name) => name.endsWith('.sql')).map((name) => name.slice(0, -4)).sort();
}

export function querySql(name: string): string | undefined {
  if (!queryNames().includes(name)) return undefined;
  return readFileSync(`${queriesDir()}${name}.sql`, 'utf8');
}

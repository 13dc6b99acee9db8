import type { QueryRow } from '../adapters/duckdb.js';

/** Query rows as an aligned text table, numbers right-aligned, pure. */
export function formatQueryTable(columns: readonly string[], rows: readonly QueryRow[]): string {
  const cells = rows.map((row) => columns.map((column) => (row[column] === null || row[column] === undefined ? '-' : String(row[column]))));
  const numeric = columns.map((column) => rows.length > 0 && rows.every((row) => row[column] === null || typeof row[column] === 'number' || /^-?\d+(\.\d+)?$/.test(String(row[column]))));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length)));
  const render = (line: readonly string[]) => line.map((cell, index) => (numeric[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!))).join('  ').trimEnd();
  return `${[render(columns.map((column) => column.toUpperCase())), ...cells.map(render)].join('\n')}\n${rows.length} row${rows.length === 1 ? '' : 's'}\n`;
}

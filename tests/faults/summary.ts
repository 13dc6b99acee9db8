/**
 * After `npm run test:faults`: one table of every scenario (runs, failures, the counts that must be
 * 0), and the secrets check: every log line, report and `config check` output the suite captured is
 * searched for the suite's AWS secret key and SSH private key material. Exit 1 when anything is off.
 *
 *   node dist/tests/faults/summary.js RESULTS.jsonl CAPTURE_DIR
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCapture, type ScenarioRow } from './harness.js';

function main(resultsFile: string, captureDir: string): number {
  const rows = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ScenarioRow)
    : [];
  const secrets = [process.env.FAULTS_AWS_SECRET ?? '', ...readLines(join(captureDir, '.secrets', 'lines'))].filter((secret) => secret.length >= 16);
  const files = existsSync(captureDir) ? listCapture(captureDir).filter((file) => !file.includes('/.secrets/')) : [];
  const hits = files.filter((file) => {
    const text = readFileSync(file, 'utf8');
    return secrets.some((secret) => text.includes(secret));
  });
  rows.push({ scenario: `secrets in logs, reports, config check (${files.length} files, ${secrets.length} secrets)`, runs: files.length, failures: 0, losses: { files_with_a_secret: hits.length } });

  const width = Math.max(...rows.map((row) => row.scenario.length), 8);
  const lines = [`${'scenario'.padEnd(width)}  runs  failures  losses (each must be 0)`];
  for (const row of rows) {
    const losses = Object.entries(row.losses).map(([name, count]) => `${name}=${count}`).join(' ') || '-';
    lines.push(`${row.scenario.padEnd(width)}  ${String(row.runs).padStart(4)}  ${String(row.failures).padStart(8)}  ${losses}${row.note ? `  (${row.note})` : ''}`);
  }
  process.stdout.write(`\nfault injection: ${rows.length - 1} scenarios\n${lines.join('\n')}\n`);
  for (const file of hits) process.stdout.write(`SECRET FOUND in ${file}\n`);
  const bad = rows.filter((row) => row.failures > 0 || Object.values(row.losses).some((count) => count > 0));
  if (rows.length === 1) process.stdout.write('no scenario recorded a result\n');
  return bad.length === 0 && rows.length > 1 ? 0 : 1;
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

process.exitCode = main(process.argv[2] ?? '', process.argv[3] ?? '');

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { readRolloutDocument, type FleetContext } from './fleet-context.js';
import { parseDuration } from '../config/duration.js';
import { describeS3Error } from '../adapters/s3.js';
import { loadAssets } from '../dashboard/assets.js';
import { buildSite, type BuildOutcome } from '../dashboard/build.js';
import { directoryStore, s3Store, type SiteStore } from '../dashboard/site-store.js';
import { serveDirectory } from '../dashboard/serve.js';
import { progressLine } from '../dashboard/progress-bar.js';

const WARNINGS_SHOWN = 20;

/**
 * `agent fleet dashboard` (SPEC §11): a static site from registry/, latest/ and rollout.json.
 * Exit 0 when it was written (bad entries are warnings the page lists too), 1 when S3 cannot be read.
 * `--serve` keeps serving it on 127.0.0.1 and rebuilds it every minute until SIGINT/SIGTERM.
 */
export async function fleetDashboardCommand(context: FleetContext, values: ParsedCommand['values'], io: CommandIo): Promise<number> {
  const temporary = typeof values.out !== 'string';
  const out = temporary ? mkdtempSync(join(tmpdir(), 'agent-dashboard-')) : String(values.out);
  const store = out.startsWith('s3://') ? s3Target(context, out) : directoryStore(resolve(out));
  const build = () => buildOnce(context, values, io, store);
  if (!values.serve) {
    const outcome = await build().catch((error: unknown) => failure(io, error));
    return outcome ? 0 : 1;
  }
  if (!(await build().catch((error: unknown) => failure(io, error)))) return 1;
  const port = Number(values.port ?? 8080);
  const server = await serveDirectory(resolve(out), port);
  io.stderr.write(`agent: dashboard: serving http://127.0.0.1:${port}/ (rebuilt every ${values.every ?? '1m'}; Ctrl-C stops)\n`);
  let running = false;
  const timer = setInterval(async () => {
    if (running) return; // a slow build is never doubled
    running = true;
    await build().catch((error: unknown) => failure(io, error));
    running = false;
  }, parseDuration(String(values.every ?? '1m'))!);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  clearInterval(timer);
  await new Promise((done) => server.close(done));
  if (temporary) rmSync(out, { recursive: true, force: true });
  return 0;
}

function s3Target(context: FleetContext, out: string): SiteStore {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(out) ?? [];
  return s3Store(context.s3, bucket, prefix);
}

async function buildOnce(context: FleetContext, values: ParsedCommand['values'], io: CommandIo, store: SiteStore): Promise<BuildOutcome> {
  const live = Boolean(io.stderr.isTTY);
  const outcome = await buildSite({
    s3: context.s3,
    bucket: context.bucket,
    prefix: context.prefix,
    store,
    assets: loadAssets(),
    readRollout: () => readRolloutDocument(context).catch(() => null),
    now: () => new Date(),
    driftCheckEveryMs: context.driftCheckEveryMs,
    staleAfterMs: typeof values.stale === 'string' ? parseDuration(values.stale)! : 2 * context.driftCheckEveryMs + context.splayMs,
    days: Number(values.days ?? 14),
    onProgress: (done, total) => {
      if (live) io.stderr.write(`\r${progressLine(done, total)}${done >= total ? '\n' : ''}`);
    },
  });
  for (const warning of outcome.warnings.slice(0, WARNINGS_SHOWN)) io.stderr.write(`agent: dashboard: warning: ${warning}\n`);
  if (outcome.warnings.length > WARNINGS_SHOWN) io.stderr.write(`agent: dashboard: ... and ${outcome.warnings.length - WARNINGS_SHOWN} more (listed on the page)\n`);
  io.stdout.write(`dashboard: ${outcome.instances.toLocaleString('en-US')} hosts, ${outcome.warnings.length} warning${outcome.warnings.length === 1 ? '' : 's'}, ${(outcome.ms / 1000).toFixed(1)} s: ${outcome.path}\n`);
  return outcome;
}

function failure(io: CommandIo, error: unknown): undefined {
  io.stderr.write(`agent: dashboard: build failed: ${describeS3Error(error)}\n`);
  return undefined;
}

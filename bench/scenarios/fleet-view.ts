/**
 * Item 6: `agent fleet status` over many instances on the loopback S3 server (s3rver, which answers one
 * request at a time, so both sides mostly measure the server). Baseline: a minimal script that lists
 * the same prefixes and GETs the same keys at the same concurrency (bench/baselines/list-get.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startBenchS3, type BenchS3 } from '../lib/s3.js';
import { AGENT_BIN } from '../lib/paths.js';
import { timed, expectExit } from '../lib/timed.js';
import { registration, latestReport } from '../fleet-sim/seed-documents.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const BUCKET = 'fleet-view';
const BASELINE = new URL('../baselines/list-get.js', import.meta.url).pathname;
const SEED_CONCURRENCY = 32;

export const fleetView: Scenario = {
  name: 'fleet-view',
  title: '6. Fleet view scale',
  async run(options) {
    const sizes = options.quick ? [100] : [1_000, 10_000];
    const rows: Row[] = [];
    const notes: string[] = [];
    for (const size of sizes) {
      const s3 = await startBenchS3([BUCKET]);
      try {
        const seeding = performance.now();
        await seed(s3, size);
        notes.push(`${size.toLocaleString('en-US')} instances (${(2 * size).toLocaleString('en-US')} objects) seeded in ${((performance.now() - seeding) / 1000).toFixed(1)} s at concurrency ${SEED_CONCURRENCY}.`);
        // the 10,000 case costs about a minute a repetition on s3rver: fewer of them
        const repetitions = size >= 10_000 ? Math.min(options.repetitions, 3) : options.repetitions;
        const baseline: number[] = [];
        const agent: number[] = [];
        for (let rep = 0; rep < repetitions; rep++) {
          const plain = expectExit(await timed(process.execPath, [BASELINE, s3.endpoint, BUCKET], { env: s3.env, timeoutMs: 600_000 }), [0], 'list + get baseline');
          if (Number(plain.stdout.split(' ')[0]) !== 2 * size) throw new Error(`baseline read ${plain.stdout.trim()} objects, expected ${2 * size}`);
          const fleet = expectExit(
            await timed(process.execPath, [AGENT_BIN, 'fleet', 'status', '--json', '--bucket', BUCKET, '--endpoint', s3.endpoint, '--path-style'], {
              env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' },
              timeoutMs: 600_000,
            }),
            [0],
            'agent fleet status',
          );
          const instances = (JSON.parse(fleet.stdout) as { summary: { instances: number } }).summary.instances;
          if (instances !== size) throw new Error(`fleet status showed ${instances} instances, expected ${size}`);
          baseline.push(plain.ms);
          agent.push(fleet.ms);
          options.log(`  ${size}: list+get ${(plain.ms / 1000).toFixed(1)} s, fleet status ${(fleet.ms / 1000).toFixed(1)} s`);
        }
        const seconds = (samples: number[]) => summarize(samples.map((ms) => ms / 1000));
        rows.push({ metric: `fleet status, ${size.toLocaleString('en-US')} instances${repetitions !== options.repetitions ? ` (${repetitions} repetitions)` : ''}`, unit: 's', baseline: seconds(baseline), subject: seconds(agent), ratio: pairedRatio(agent, baseline) });
      } finally {
        await s3.remove();
      }
    }
    return {
      baseline: 'a minimal script: ListObjectsV2 of registry/ and latest/, GetObject of every key, 32 at a time, no parsing (its own Node process)',
      subject: '`agent fleet status --json` (list, fetch 32 at a time, parse, compute states, print)',
      rows,
      notes: [...notes, 'Both run as their own process against a fresh s3rver per size (NODE_OPTIONS=--openssl-legacy-provider so it lists past 1,000 keys); wall time includes Node start-up and loading the S3 SDK.'],
    };
  },
};

async function seed(s3: BenchS3, size: number): Promise<void> {
  const now = Date.now();
  let next = 0;
  const put = (key: string, body: unknown) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }));
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < size) {
        const id = `i-${(next++).toString(16).padStart(17, '0')}`;
        await put(`registry/${id}.json`, registration(id, now));
        await put(`latest/${id}.json`, latestReport(id, now));
      }
    }),
  );
}

import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execa } from 'execa';
import { startS3Server, type S3Server } from '../helpers/s3.js';
import { createAgentHost, type AgentHost } from '../helpers/agent-host.js';
import type { Report } from '../../agent/report/types.js';

/** The bundled manifests/ in --noop on this host: sensible pending changes, nothing changed. */
const SAMPLE = new URL('../../manifests/', import.meta.url).pathname;
let s3: S3Server;
let host: AgentHost;

const chronyState = async () => (await execa('dpkg-query', ['-W', '-f=${Status}', 'chrony'], { reject: false })).stdout;

beforeAll(async () => {
  s3 = await startS3Server();
  host = createAgentHost({ source: { url: SAMPLE }, report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true } }, s3.env);
});
afterAll(async () => {
  host?.remove();
  await s3?.remove();
});

describe('the sample tree in noop', () => {
  it('plans the ntpclient class without failures and changes nothing on the host', async () => {
    const before = await chronyState();
    const result = await host.run(['run-now', '--noop', '--json']);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.apply.status).not.toBe('failed');
    expect([0, 2]).toContain(result.exitCode);
    expect(report.drift.failed).toBe(0);
    expect(report.drift.resources_total).toBe(3);
    const planned = report.drift.resources.map((resource) => resource.type);
    for (const type of planned) expect(['Package', 'File', 'Service']).toContain(type);
    expect(await chronyState()).toBe(before);
  });
});

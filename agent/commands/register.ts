import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { commandLog } from './io.js';
import { configFor } from './config-for.js';
import { statePaths } from '../run/paths.js';
import { resolveIdentity } from '../run/identity.js';
import { createS3Client, describeS3Error } from '../adapters/s3.js';
import { registryKey } from '../report/keys.js';
import { buildRegistration, registrationChanged, type Registration } from '../fleet/registration.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { agentVersion } from '../version.js';
import { hookEnvironment, runHooks } from '../run/hooks.js';
import { exec } from '../adapters/exec.js';

/** Where sshd keeps the host's public keys; overridable for tests that must not depend on the host. */
const SSH_HOST_KEY_DIR = '/etc/ssh';

/**
 * `agent register`: resolve who this host is (IMDSv2), write `registry/<id>.json` when it changed,
 * then run hooks.after_register. The daemon runs it at start, in a child, so the daemon itself never
 * loads the S3 SDK.
 */
export async function registerCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { config } = configFor(command.values, io.env);
  const log = await commandLog(io, config);
  const paths = statePaths(config);
  const identity = await resolveIdentity(config, log, { refresh: true, env: io.env });
  const registration = buildRegistration({
    identity,
    roles: config.roles,
    sshHostKeys: await readSshHostKeys(io.env.AGENT_SSH_HOST_KEY_DIR ?? SSH_HOST_KEY_DIR),
    agentVersion: agentVersion(),
    now: new Date(),
  });
  const previous = await readJsonFile<Registration>(paths.registrationFile);
  const key = registryKey(config.report.prefix, identity.id);
  const s3 = createS3Client(config.report, io.env);
  // one HEAD per start: an entry pruned by `fleet prune` while this host was quiet comes back
  if (registrationChanged(previous, registration) || !(await exists(s3, config.report.bucket, key))) {
    try {
      await s3.send(new PutObjectCommand({ Bucket: config.report.bucket, Key: key, Body: `${JSON.stringify(registration, null, 2)}\n`, ContentType: 'application/json' }));
    } catch (error) {
      log.error({ key, err: describeS3Error(error) }, 'registration failed');
      io.stderr.write(`agent: could not write s3://${config.report.bucket}/${key}: ${describeS3Error(error)}\n`);
      return 1;
    } finally {
      s3.destroy();
    }
    await writeFileAtomic(paths.registrationFile, JSON.stringify(registration));
    log.info({ key, instance_id: identity.id }, 'registered');
  } else {
    s3.destroy();
    log.info({ key, instance_id: identity.id }, 'registration unchanged: nothing written');
  }
  const env = hookEnvironment({ instanceId: identity.id, privateIp: identity.private_ip, roles: config.roles });
  await runHooks({ exec, log }, 'after_register', config.hooks.after_register, env, config.hooks.timeout);
  return 0;
}

/** `agent deregister`: remove this host from the live list (a clean shutdown, SPEC §4). */
export async function deregisterCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { config } = configFor(command.values, io.env);
  const log = await commandLog(io, config);
  const paths = statePaths(config);
  const registered = await readJsonFile<Registration>(paths.registrationFile);
  const id = registered?.instance_id ?? (await resolveIdentity(config, log, { env: io.env })).id;
  const key = registryKey(config.report.prefix, id);
  const s3 = createS3Client(config.report, io.env);
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: config.report.bucket, Key: key }));
  } catch (error) {
    log.error({ key, err: describeS3Error(error) }, 'deregistration failed');
    return 1;
  } finally {
    s3.destroy();
  }
  await unlink(paths.registrationFile).catch(() => undefined);
  log.info({ key, instance_id: id }, 'deregistered');
  return 0;
}

/** False only when S3 says the object is not there; any other answer counts as present (no rewrite storm). */
async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404;
  }
}

export async function readSshHostKeys(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^ssh_host_.*_key\.pub$/.test(name)).sort();
  const keys = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
  // type and key only: the comment names the build host, which a clone does not share
  return keys.map((line) => line.trim().split(/\s+/).slice(0, 2).join(' ')).filter((line) => line.includes(' '));
}

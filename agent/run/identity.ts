import { hostname, networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Log } from '../adapters/log.js';
import type { InstanceMetadata } from '../adapters/imds.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { statePaths } from './paths.js';

export interface Identity {
  id: string;
  hostname: string;
  private_ip: string | null;
  /** What IMDS said, when it answered (for the registry entry). */
  metadata: InstanceMetadata | null;
}

/**
 * Who this host is. A literal `instance_id` wins. `auto` asks IMDSv2 and, where none answers (not
 * EC2), falls back to the hostname with a warning. The answer is cached in state_dir so runs do not
 * ask again; the daemon refreshes it at every start (`refresh`), which is also when a cloned image
 * learns its new identity.
 */
export async function resolveIdentity(
  config: Pick<Config, 'instance_id' | 'state_dir' | 'stage_dir'>,
  log: Log,
  options: { refresh?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<Identity> {
  const host = hostname();
  if (config.instance_id !== 'auto') {
    return { id: config.instance_id, hostname: host, private_ip: firstPrivateIpv4(), metadata: null };
  }
  const cacheFile = statePaths(config).identityFile;
  if (!options.refresh) {
    const cached = await readJsonFile<Identity>(cacheFile);
    if (cached?.id) return cached;
  }
  const { readInstanceMetadata } = await import('../adapters/imds.js'); // the IMDS client: only a host that asks EC2 who it is
  const metadata = await readInstanceMetadata(options.env);
  const identity: Identity = metadata
    ? { id: metadata.instance_id, hostname: host, private_ip: metadata.private_ip ?? firstPrivateIpv4(), metadata }
    : { id: host, hostname: host, private_ip: firstPrivateIpv4(), metadata: null };
  if (!metadata) log.warn({ hostname: host }, 'instance_id is auto but no EC2 instance metadata answered: using the hostname as instance id');
  await writeFileAtomic(cacheFile, JSON.stringify(identity)).catch((error: Error) => log.warn({ err: error.message }, 'could not cache the identity'));
  return identity;
}

export function firstPrivateIpv4(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}

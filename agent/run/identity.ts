import { hostname, networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Log } from '../adapters/log.js';

export interface Identity {
  id: string;
  hostname: string;
  private_ip: string | null;
}

/**
 * Who this host is. A literal `instance_id` wins; `auto` falls back to the hostname, with a warning,
 * wherever no instance metadata answers.
 */
export function resolveIdentity(config: Pick<Config, 'instance_id'>, log: Log): Identity {
  const host = hostname();
  let id = config.instance_id;
  if (id === 'auto') {
    log.warn({ hostname: host }, 'instance_id is auto and no instance metadata was read: using the hostname');
    id = host;
  }
  return { id, hostname: host, private_ip: firstPrivateIpv4() };
}

export function firstPrivateIpv4(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}

import { createHash } from 'node:crypto';

/**
 * The host's fixed offset in [0, splay) (SPEC §3): a hash of its instance_id, never machine-id
 * (AMIs clone it). Fixed per host, so each host keeps its slot and the fleet stays spread over the
 * window at every tick, not only after a restart (Puppet's splay is drawn once per process start).
 */
export function splayOffsetMs(instanceId: string, splayMs: number): number {
  if (splayMs <= 0) return 0;
  const digest = createHash('sha256').update(instanceId).digest();
  const fraction = digest.readUIntBE(0, 6) / 2 ** 48; // 48 uniform bits: ample for any splay in ms
  return Math.floor(fraction * splayMs);
}

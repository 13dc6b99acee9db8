import { normalizePrefix } from '../report/keys.js';

/** The S3 source's layout under its prefix (SPEC §8). */
export const s3SourceKeys = (prefix: string) => {
  const base = normalizePrefix(prefix);
  return {
    current: `${base}current.json`,
    manifest: (releaseId: string) => `${base}releases/${releaseId}.json`,
    signature: (releaseId: string) => `${base}releases/${releaseId}.sig`,
    object: (sha256: string) => `${base}objects/${sha256}`,
    /** All of a release's objects in one gzip'd stream, for a host with an empty cache (source/pack.ts). */
    pack: (releaseId: string) => `${base}packs/${releaseId}.gz`,
    /** SPEC §9: the open (or last) rollout and its Ed25519 signature. */
    rollout: `${base}rollout.json`,
    rolloutSignature: `${base}rollout.sig`,
  };
};

import { AgentError } from '../errors.js';
import { findSigner, type TrustedKey } from '../release/signature.js';
import { parseRollout, type RolloutDocument } from './document.js';

/**
 * May a host follow this rollout document? The same rules as a release manifest (SPEC §8, §9):
 * signed by a key in verify.public_keys when keys are set, and a serial that never goes back. An
 * equal serial is accepted: two controllers deciding the same step at once both write serial N+1.
 */
export interface OfferedRollout {
  bytes: Buffer;
  signature: string | null;
  /** Names the document in messages: `s3://bucket/prefix/rollout.json`. */
  where: string;
}

export function trustRollout(offered: OfferedRollout, keys: readonly TrustedKey[], seenSerial: number | null): RolloutDocument {
  if (keys.length > 0) {
    if (offered.signature === null) throw rejected(`${offered.where} has no signature (rollout.sig) beside it, and verify.public_keys accepts only signed rollouts`);
    // one signature a line: the publisher keeps the previous document's line below the new one, so a
    // writer stopped between rollout.sig and rollout.json leaves a pair that still verifies
    const lines = offered.signature.split('\n').filter((line) => line.trim() !== '');
    if (!lines.some((line) => findSigner(offered.bytes, line, keys))) {
      throw rejected(
        `${offered.where}: the signature does not verify with any key in verify.public_keys ` +
          `(${keys.map((key) => key.name).join(', ')}): signed by an unknown key, truncated, or the document was changed after signing`,
      );
    }
  }
  const doc = parseRollout(offered.bytes.toString('utf8'), offered.where);
  if (seenSerial !== null && doc.serial < seenSerial) {
    throw rejected(`${offered.where}: rollout ${doc.rollout_id} has serial ${doc.serial}, lower than the ${seenSerial} this host has already followed (a replayed older rollout document?)`);
  }
  return doc;
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}

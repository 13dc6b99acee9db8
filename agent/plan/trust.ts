import { AgentError } from '../errors.js';
import { findSigner, type TrustedKey } from '../release/signature.js';
import { isExpired, parsePlan, type PlanDocument } from './document.js';

/**
 * May a host run this plan? Signed by a key in verify.public_keys when keys are set (the same rule
 * as a release or a rollout), well formed, and not expired by the host's clock (SPEC §10, issue #14).
 */
export interface OfferedPlan {
  bytes: Buffer;
  signature: string | null;
  /** Names the document in messages: `s3://bucket/prefix/plans/<id>.json`. */
  where: string;
}

export function trustPlan(offered: OfferedPlan, keys: readonly TrustedKey[], now: Date): PlanDocument {
  if (keys.length > 0) {
    if (offered.signature === null) throw rejected(`${offered.where} has no signature beside it, and verify.public_keys accepts only signed plans`);
    if (!findSigner(offered.bytes, offered.signature, keys)) {
      throw rejected(
        `${offered.where}: the signature does not verify with any key in verify.public_keys ` +
          `(${keys.map((key) => key.name).join(', ')}): signed by an unknown key, truncated, or the plan was changed after signing`,
      );
    }
  }
  const plan = parsePlan(offered.bytes.toString('utf8'), offered.where);
  if (isExpired(plan, now)) throw new AgentError('source_rejected', `plan ${plan.plan_id} expired at ${plan.expires_at}: start a new one with \`agent plan start\``);
  return plan;
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}

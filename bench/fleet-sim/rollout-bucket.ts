/**
 * The S3 source as the rollout simulation sees it (pure): current.json and rollout.json, each with a
 * version that a write bumps (its ETag), and the GETs hosts send, counted the way S3 bills them: a
 * conditional GET answered 304 is still a GET. SPEC §9 / agent/source/s3-poll.ts: current.json on every
 * poll; rollout.json only while current.json names a rollout; rollout.sig only when rollout.json was a 200.
 */
import type { ReleasePointer } from '../../agent/release/manifest.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';

export interface GetCounts {
  /** Conditional GETs of current.json (200 or 304). */
  current: number;
  /** Conditional GETs of rollout.json (200 or 304). */
  rollout: number;
  /** GETs of rollout.sig: one per rollout.json answered 200. */
  signature: number;
}

/** What one host remembers between polls: the ETags it last saw (state_dir/source-pointer.json). */
export interface SeenVersions {
  current: number;
  rollout: number;
}

export interface PollAnswer {
  pointer: ReleasePointer;
  rollout: RolloutDocument | null;
}

export class SimBucket {
  readonly gets: GetCounts = { current: 0, rollout: 0, signature: 0 };
  /** Serial bumps of rollout.json: each decision that changed the document (start included). */
  rolloutWrites = 0;
  private currentVersion = 1;
  private rolloutVersion = 0;
  private rolloutDoc: RolloutDocument | null = null;

  constructor(private pointerDoc: ReleasePointer) {}

  get pointer(): ReleasePointer {
    return this.pointerDoc;
  }

  get rollout(): RolloutDocument | null {
    return this.rolloutDoc;
  }

  writeCurrent(pointer: ReleasePointer): void {
    this.pointerDoc = pointer;
    this.currentVersion += 1;
  }

  writeRollout(document: RolloutDocument): void {
    this.rolloutDoc = document;
    this.rolloutVersion += 1;
    this.rolloutWrites += 1;
  }

  /** One host's poll: the GETs it sends, and what it then decides from (the saved copy on a 304). */
  poll(seen: SeenVersions): PollAnswer {
    this.gets.current += 1;
    seen.current = this.currentVersion;
    if (!this.pointerDoc.rollout_id) return { pointer: this.pointerDoc, rollout: null };
    this.gets.rollout += 1;
    if (this.rolloutDoc && seen.rollout !== this.rolloutVersion) this.gets.signature += 1;
    seen.rollout = this.rolloutVersion;
    return { pointer: this.pointerDoc, rollout: this.rolloutDoc };
  }
}

import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { AgentError } from '../errors.js';
import { describeS3Error } from '../adapters/s3.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { parsePointer, type ReleasePointer } from '../release/manifest.js';
import type { TrustedKey } from '../release/signature.js';
import type { RolloutDocument } from '../rollout/document.js';
import { trustRollout } from '../rollout/trust.js';
import type { s3SourceKeys } from './s3-keys.js';

/**
 * The S3 source's poll (SPEC §8, §9): one conditional GET of `current.json` with the ETag of the last
 * poll (304 = as before). While a rollout is open or aborted, current.json names it (`rollout_id`) and
 * the poll adds one conditional GET of `rollout.json`; a fleet without a rollout pays nothing more.
 * `rollout.sig` is fetched only when rollout.json changed. Both documents are kept in
 * `state_dir/source-pointer.json`: a 304 poll decides again from them.
 */
export interface PollState {
  current: { etag: string; text: string };
  rollout: { etag: string; text: string; signature: string | null } | null;
}

export interface Polled {
  pointer: ReleasePointer;
  rollout: RolloutDocument | null;
  bytes: number;
  /** Keep what was polled for the next conditional GETs (after the documents were trusted). */
  remember(): Promise<void>;
}

type Get = (key: string, ifNoneMatch?: string) => Promise<GetObjectCommandOutput>;

export interface PollInput {
  get: Get;
  keys: ReturnType<typeof s3SourceKeys>;
  where: (key: string) => string;
  stateFile: string;
  /** `state_dir/rollout-seen.json`: the highest rollout serial this host followed (replay protection). */
  seenFile: string;
  trustedKeys: readonly TrustedKey[];
  /** false on a host with nothing active: everything is fetched afresh. */
  useCache: boolean;
}

export async function pollS3Source(input: PollInput): Promise<Polled> {
  const saved = input.useCache ? await readPollState(input.stateFile) : undefined;
  let bytes = 0;
  const text = async (object: GetObjectCommandOutput) => {
    const body = await object.Body!.transformToString('utf8');
    bytes += Buffer.byteLength(body);
    return body;
  };
  const fetchCurrent = async (): Promise<PollState['current']> => {
    try {
      const object = await input.get(input.keys.current, saved?.current.etag);
      return { etag: object.ETag ?? '', text: await text(object) };
    } catch (error) {
      if (saved && httpStatus(error) === 304) return saved.current;
      if (isMissing(error)) throw new AgentError('source_unreachable', `no release published yet: ${input.where(input.keys.current)} does not exist`);
      throw unreachable(input.where(input.keys.current), error);
    }
  };
  const fetchRollout = async (etag: string | undefined): Promise<PollState['rollout']> => {
    let object: GetObjectCommandOutput;
    try {
      object = await input.get(input.keys.rollout, etag);
    } catch (error) {
      if (saved?.rollout && etag && httpStatus(error) === 304) return saved.rollout;
      if (isMissing(error) || httpStatus(error) === 403) return null; // no s3:ListBucket: 403 for a missing key
      throw unreachable(input.where(input.keys.rollout), error);
    }
    const document = await text(object);
    let signature: string | null = null;
    try {
      signature = await text(await input.get(input.keys.rolloutSignature));
    } catch (error) {
      if (!isMissing(error) && httpStatus(error) !== 403) throw unreachable(input.where(input.keys.rolloutSignature), error);
    }
    return { etag: object.ETag ?? '', text: document, signature };
  };

  const current = await fetchCurrent();
  const pointer = parsePointer(current.text, input.where(input.keys.current));
  // a rollout.json that current.json does not name is over (completed, or superseded by a publish)
  const fetchedRollout = pointer.rollout_id ? await fetchRollout(saved?.rollout?.etag) : null;
  const seen = (await readJsonFile<{ serial?: number }>(input.seenFile))?.serial ?? null;
  let rolloutState = fetchedRollout;
  let rollout: RolloutDocument | null = null;
  if (rolloutState) {
    const trust = (state: NonNullable<PollState['rollout']>) =>
      trustRollout({ bytes: Buffer.from(state.text), signature: state.signature, where: input.where(input.keys.rollout) }, input.trustedKeys, seen);
    try {
      rollout = trust(rolloutState);
    } catch (error) {
      // the publisher writes rollout.sig first, then rollout.json: a poll between the two sees a stale pair once
      if (rolloutState === saved?.rollout) throw error;
      rolloutState = await fetchRollout(undefined);
      rollout = rolloutState ? trust(rolloutState) : null;
    }
    if (rollout && (seen === null || rollout.serial > seen)) await writeFileAtomic(input.seenFile, `${JSON.stringify({ serial: rollout.serial })}\n`);
  }
  const state: PollState = { current, rollout: rolloutState };
  return { pointer, rollout, bytes, remember: () => writeFileAtomic(input.stateFile, JSON.stringify(state)) };
}

async function readPollState(file: string): Promise<PollState | undefined> {
  const state = await readJsonFile<Partial<PollState>>(file);
  // an older agent kept {etag, release_id} only: poll afresh once
  return state && typeof state.current?.text === 'string' ? (state as PollState) : undefined;
}

export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function isMissing(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(error) === 404;
}

export function unreachable(location: string, error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  return new AgentError('source_unreachable', `S3 source ${location}: ${describeS3Error(error)}`, { cause: error });
}

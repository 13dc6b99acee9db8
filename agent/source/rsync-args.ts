import type { Config } from '../config/schema.js';
import { isRemoteUrl } from '../config/semantics.js';
import { controlOptions, type SshControl } from './ssh-control.js';

type SourceConfig = Config['source'];
/** What the rsync argv needs of the source: where it is and how to reach it. */
export type RsyncEndpoint = Pick<SourceConfig, 'url' | 'port' | 'ssh_key' | 'known_hosts'>;

/**
 * The ssh rsync runs. Host keys are pinned: only the image's known_hosts counts (never the global
 * one), an unknown or changed key is refused (StrictHostKeyChecking=yes, never accept-new), and
 * BatchMode means no prompt can ever hang an unattended run. ServerAlive ends a connection whose
 * server went silent mid-transfer well before source.timeout would.
 */
export function sshCommand(source: Pick<SourceConfig, 'port' | 'ssh_key' | 'known_hosts'>, control?: SshControl): string {
  return [
    'ssh',
    `-p ${source.port}`,
    `-i ${rshWord(source.ssh_key)}`,
    '-o StrictHostKeyChecking=yes',
    `-o ${rshWord(`UserKnownHostsFile=${source.known_hosts}`)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o BatchMode=yes',
    '-o IdentitiesOnly=yes',
    '-o ConnectTimeout=10',
    '-o ServerAliveInterval=15',
    '-o ServerAliveCountMax=2',
    ...(control ? controlOptions(control).map((option) => `-o ${rshWord(option)}`) : []),
  ].join(' ');
}

/**
 * rsync splits `-e` on spaces itself (no shell), honouring single and double quotes: quote a word
 * only when it needs it, so the common case reads exactly as an operator would type it.
 */
function rshWord(word: string): string {
  if (!/[\s'"]/.test(word)) return word;
  return word.includes("'") ? `"${word}"` : `'${word}'`;
}

/** The source URL with one trailing slash: rsync then copies the tree's contents, not the directory. */
export function sourceUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * What every transfer shares: regular files, symlinks that stay inside the tree (--safe-links),
 * permissions and times (times make the quick check work), no devices or specials (no -D), no
 * owners. Nothing is excluded: `.release/` travels with the tree for the release verifier.
 */
function commonArgs(source: RsyncEndpoint, control?: SshControl): string[] {
  const args = ['--recursive', '--links', '--safe-links', '--perms', '--times', '--delete', '--no-owner', '--no-group'];
  if (source.url && isRemoteUrl(source.url)) args.push('-e', sshCommand(source, control));
  return args;
}

/**
 * Poll: compare the source with the active release without writing anything: one itemized line per
 * difference, none when unchanged. --stats costs nothing extra and tells what the poll received.
 */
export function pollArgs(source: RsyncEndpoint, activeDir: string, control?: SshControl): string[] {
  return [...commonArgs(source, control), '--dry-run', '--itemize-changes', '--out-format=%i %n', '--stats', sourceUrl(source.url ?? ''), `${activeDir}/`];
}

/**
 * The cheap poll of a signed source: `.release/` alone (manifest and signature, a few KB), into the
 * staging dir, where the full stage then finds it already in place. Filter rules rather than a
 * `.release` path: rrsync refuses a path that does not exist (a plain tree), while the excluded
 * rest of the tree is never even listed by the sender, only the root directory.
 */
export function releaseFileArgs(source: RsyncEndpoint, stagingDir: string, control?: SshControl): string[] {
  return [...commonArgs(source, control), '--stats', '--include=/.release/***', '--exclude=*', sourceUrl(source.url ?? ''), `${stagingDir}/`];
}

/**
 * Stage: a fresh directory, unchanged files hard-linked from the active release. No --fsync: the
 * caller makes the staged tree durable with one syncfs before the release is renamed into place
 * (rsync's per-file fsync cost 1.5 ms a file: most of a 10,000-file first sync), so a power cut
 * still cannot leave an activated release with torn files.
 */
export function stageArgs(source: RsyncEndpoint, stagingDir: string, activeDir: string | null, control?: SshControl, exactTimes = false): string[] {
  const args = [...commonArgs(source, control), '--stats'];
  // rsync's quick check compares whole seconds: a file republished within the same second at the same
  // size (a manifest, a generated file) would be hard-linked from the active release or kept from a
  // recycled one, stale, and the release refused at every poll. For a signed release (which never
  // adopts source times into the active one) times are compared to the nanosecond.
  if (exactTimes) args.push('--modify-window=-1');
  if (activeDir) args.push(`--link-dest=${activeDir}`);
  return [...args, sourceUrl(source.url ?? ''), `${stagingDir}/`];
}

/** rsync's itemize form `YXcstpoguax name`; --stats lines never start like one. */
const ITEMIZED = /^[<>ch.*][fdLDS*]/;
/** The release root's time is ours (activation order for pruning), never the source's. */
const ROOT_TIME_ONLY = /^\.d\.\.t\.\.\.\.\.\. \.\/$/;

/** Itemized lines that mean a difference between the source and the active release. */
export function changedItems(itemized: string): string[] {
  return itemized.split('\n').filter((line) => ITEMIZED.test(line) && !ROOT_TIME_ONLY.test(line));
}

/**
 * Counts from `rsync --stats`. "Total bytes received" is what crossed the wire (compressed deltas and
 * the file list), which is what a fleet's bandwidth pays; "Number of regular files transferred" leaves
 * out deletions and chmods, so it is only a fallback for files_changed.
 */
export function parseStats(stdout: string): { filesChanged: number; bytesTransferred: number } {
  const number = (label: RegExp) => Number((label.exec(stdout)?.[1] ?? '0').replace(/,/g, ''));
  return {
    filesChanged: number(/Number of regular files transferred: ([\d,]+)/),
    bytesTransferred: number(/Total bytes received: ([\d,]+)/),
  };
}

/** rsync's "some files vanished before they could be transferred": the server was mid-update, not down. */
export const RSYNC_VANISHED = 24;

export interface RsyncOutcome {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  spawnError?: string;
}

/** Why a finished rsync did not deliver, in one line for the report; undefined when it did. */
export function rsyncFailure(from: string, result: RsyncOutcome, timeout: string): string | undefined {
  if (result.timedOut) return `rsync from ${from} timed out after ${timeout}`;
  if (result.aborted) return `rsync from ${from} was stopped: the run was cancelled`;
  if (result.spawnError) return `rsync could not be started: ${result.spawnError}`;
  if (result.exitCode === 0 || result.exitCode === RSYNC_VANISHED) return undefined;
  const status = result.exitCode === null ? `signal ${result.signal ?? 'unknown'}` : `exit ${result.exitCode}`;
  return `rsync from ${from} failed (${status}): ${meaningfulStderr(result.stderr)}`;
}

/** What ssh or rsync said that an operator acts on, most decisive first. */
const DECISIVE = [/Host key verification failed/, /REMOTE HOST IDENTIFICATION HAS CHANGED/, /Permission denied/, /Connection (refused|timed out)/, /No such file or directory/, /Could not resolve/];
/** rsync's protocol trailers and ssh's @@@ banners explain nothing on their own. */
const NOISE = /^@+$|^rsync(: \[\w+\])?: (connection unexpectedly closed|error in rsync protocol)|^rsync error:/;

/** The first two meaningful stderr lines, most decisive first (ssh prints no key material there). */
export function meaningfulStderr(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim().replace(/^@\s+|\s+@$/g, '')) // ssh frames its warnings in @ ... @
    .filter((line) => line && !NOISE.test(line));
  const rank = (line: string) => {
    const index = DECISIVE.findIndex((pattern) => pattern.test(line));
    return index === -1 ? DECISIVE.length : index;
  };
  const ranked = [...lines].sort((a, b) => rank(a) - rank(b));
  return ranked.slice(0, 2).join(' ') || stderr.trim().split('\n')[0] || 'no error output';
}

import type { Config } from '../config/schema.js';
import { isRemoteUrl } from '../config/semantics.js';

type SourceConfig = Config['source'];

/**
 * The ssh rsync runs. Host keys are pinned: only the image's known_hosts counts (never the global
 * one), an unknown or changed key is refused (StrictHostKeyChecking=yes, never accept-new), and
 * BatchMode means no prompt can ever hang an unattended run.
 */
export function sshCommand(source: Pick<SourceConfig, 'port' | 'ssh_key' | 'known_hosts'>): string {
  return [
    'ssh',
    `-p ${source.port}`,
    `-i ${source.ssh_key}`,
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${source.known_hosts}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o BatchMode=yes',
    '-o IdentitiesOnly=yes',
    '-o ConnectTimeout=10',
    '-o ServerAliveInterval=15',
    '-o ServerAliveCountMax=2',
  ].join(' ');
}

/** The source URL with one trailing slash: rsync then copies the tree's contents, not the directory. */
export function sourceUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * What every transfer shares: regular files, symlinks that stay inside the tree (--safe-links),
 * permissions and times (times make the quick check work), no devices, no owners.
 */
function commonArgs(source: SourceConfig): string[] {
  const args = ['--recursive', '--links', '--safe-links', '--perms', '--times', '--delete', '--no-owner', '--no-group'];
  if (source.url && isRemoteUrl(source.url)) args.push('-e', sshCommand(source));
  return args;
}

/** Poll: compare the source with the active release without writing anything (one line per difference). */
export function pollArgs(source: SourceConfig, activeDir: string): string[] {
  return [...commonArgs(source), '--dry-run', '--itemize-changes', '--out-format=%i %n', sourceUrl(source.url ?? ''), `${activeDir}/`];
}

/** Stage: a fresh directory, unchanged files hard-linked from the active release. */
export function stageArgs(source: SourceConfig, stagingDir: string, activeDir: string | null): string[] {
  const args = [...commonArgs(source), '--stats'];
  if (activeDir) args.push(`--link-dest=${activeDir}`);
  return [...args, sourceUrl(source.url ?? ''), `${stagingDir}/`];
}

/** Itemized lines that mean a difference. rsync also itemizes nothing for identical trees. */
export function changedItems(itemized: string): string[] {
  return itemized.split('\n').filter((line) => /^[<>ch.*][fdLDS*]/.test(line) && !/^\.d\.\.t\.\.\.\.\.\. \.\/$/.test(line));
}

/** Counts from `rsync --stats`. */
export function parseStats(stdout: string): { filesChanged: number; bytesTransferred: number } {
  const number = (label: RegExp) => Number((label.exec(stdout)?.[1] ?? '0').replace(/,/g, ''));
  return {
    filesChanged: number(/Number of regular files transferred: ([\d,]+)/),
    bytesTransferred: number(/Total bytes received: ([\d,]+)/),
  };
}

import { describe, it, expect } from '@jest/globals';
import { sshCommand, pollArgs, stageArgs, changedItems, parseStats, meaningfulStderr, rsyncFailure } from '../../agent/source/rsync-args.js';
import { fetchRsyncRelease } from '../../agent/source/rsync.js';
import { parseConfig } from '../../agent/config/load.js';
import { statePaths } from '../../agent/run/paths.js';
import { silentLog } from '../../agent/adapters/log.js';
import { AgentError } from '../../agent/errors.js';
import type { Exec, ExecRequest, ExecResult } from '../../agent/adapters/exec.js';

const remote = { type: 'rsync' as const, url: 'agent@10.0.0.5:/', ssh_key: '/etc/agent/ssh/id_ed25519', known_hosts: '/etc/agent/ssh/known_hosts', port: 2222, prefix: '', region: 'us-east-1', endpoint: '', force_path_style: false, timeout: 300_000 };

describe('ssh for rsync', () => {
  it('pins host keys to the configured known_hosts and never prompts', () => {
    const ssh = sshCommand(remote);
    expect(ssh).toContain('-o StrictHostKeyChecking=yes');
    expect(ssh).toContain('-o UserKnownHostsFile=/etc/agent/ssh/known_hosts');
    expect(ssh).toContain('-o GlobalKnownHostsFile=/dev/null');
    expect(ssh).toContain('-o BatchMode=yes');
    expect(ssh).toContain('-p 2222');
    expect(ssh).toContain('-i /etc/agent/ssh/id_ed25519');
    expect(ssh).toContain('-o IdentitiesOnly=yes');
    expect(ssh).not.toMatch(/accept-new|StrictHostKeyChecking=no/);
  });

  it('quotes key paths with spaces the way rsync splits -e', () => {
    const ssh = sshCommand({ ...remote, ssh_key: '/etc/agent keys/id', known_hosts: '/etc/agent keys/known_hosts' });
    expect(ssh).toContain("-i '/etc/agent keys/id'");
    expect(ssh).toContain("-o 'UserKnownHostsFile=/etc/agent keys/known_hosts'");
  });
});

describe('rsync arguments', () => {
  it('polls with a dry run against the active release', () => {
    const args = pollArgs(remote, '/var/lib/agent/releases/abc');
    expect(args).toEqual(expect.arrayContaining(['--dry-run', '--itemize-changes', '--stats', '--delete', '--safe-links', '-e']));
    expect(args).not.toContain('--link-dest');
    expect(args.slice(-2)).toEqual(['agent@10.0.0.5:/', '/var/lib/agent/releases/abc/']);
  });

  it('stages into a fresh directory, hard-linking unchanged files from the active release, no devices', () => {
    const args = stageArgs(remote, '/s/releases/.staging-1', '/s/releases/abc');
    expect(args).toContain('--link-dest=/s/releases/abc');
    expect(args).toContain('--safe-links');
    expect(args).toContain('--delete');
    expect(args).not.toContain('-a');
    expect(args).not.toContain('--devices');
    expect(args).not.toContain('-D');
    expect(args).not.toContain('--owner');
    expect(args).toEqual(expect.arrayContaining(['--recursive', '--links', '--perms', '--times', '--stats']));
    expect(args).not.toContain('--fsync'); // one syncfs of the staged tree instead (fetchRsyncRelease)
    expect(args.some((arg) => arg.startsWith('--exclude'))).toBe(false); // .release/ travels with the tree
    expect(args.slice(-1)).toEqual(['/s/releases/.staging-1/']);
  });

  it('compares times to the nanosecond for a signed release only (a same-second, same-size change is never taken as unchanged)', () => {
    expect(stageArgs(remote, '/s/new', '/s/releases/abc', undefined, true)).toContain('--modify-window=-1');
    expect(stageArgs(remote, '/s/new', '/s/releases/abc')).not.toContain('--modify-window=-1');
    expect(pollArgs(remote, '/s/releases/abc')).not.toContain('--modify-window=-1'); // a plain tree adopts source times at ms precision
  });

  it('uses no ssh for a local path and always copies the contents of the source', () => {
    const args = stageArgs({ ...remote, url: '/srv/dist' }, '/s/new', null);
    expect(args).not.toContain('-e');
    expect(args.slice(-2)).toEqual(['/srv/dist/', '/s/new/']);
  });
});

describe('reading rsync output', () => {
  it('counts itemized changes, ignoring the root directory time', () => {
    expect(changedItems('.d..t...... ./\n')).toEqual([]);
    expect(changedItems('.d..t...... ./\n>f.st...... manifests/site.pp\n*deleting   old.pp\n')).toHaveLength(2);
  });

  it('never mistakes --stats lines of a dry run for changes', () => {
    const poll = [
      '.d..t...... ./',
      '',
      'Number of files: 7 (reg: 3, dir: 3, link: 1)',
      'Number of created files: 0',
      'Number of regular files transferred: 0',
      'Total bytes received: 21',
      'sent 186 bytes  received 21 bytes  414.00 bytes/sec',
      'total size is 15  speedup is 0.07 (DRY RUN)',
    ].join('\n');
    expect(changedItems(poll)).toEqual([]);
    expect(changedItems(`${poll}\n.f...p..... README\n`)).toEqual(['.f...p..... README']);
  });

  it('parses --stats', () => {
    const stats = 'Number of regular files transferred: 1,234\nTotal bytes received: 56,789\n';
    expect(parseStats(stats)).toEqual({ filesChanged: 1234, bytesTransferred: 56789 });
  });

  it('puts the decisive ssh line first', () => {
    const stderr = [
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
      'Host key verification failed.',
      'rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]',
      'rsync error: unexplained error (code 255) at io.c(232) [Receiver=3.2.7]',
    ].join('\n');
    expect(meaningfulStderr(stderr)).toBe('Host key verification failed. WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
  });

  it('strips the @ frame from CRLF-terminated ssh lines too', () => {
    const stderr = '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key verification failed.\r\n';
    expect(meaningfulStderr(stderr)).toBe('Host key verification failed. WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
  });
});

describe('rsync failures (one line for the report)', () => {
  const ok = { exitCode: 0, signal: null, stderr: '', timedOut: false, aborted: false };

  it('says how long it waited when it timed out', () => {
    expect(rsyncFailure('agent@10.0.0.5:/', { ...ok, exitCode: null, signal: 'SIGTERM', timedOut: true }, '5m')).toBe(
      'rsync from agent@10.0.0.5:/ timed out after 5m',
    );
  });

  it('does not count vanished files (exit 24) as a failure', () => {
    expect(rsyncFailure('x:/', { ...ok, exitCode: 24, stderr: 'file has vanished: "/a"' }, '5m')).toBeUndefined();
  });

  it('names the source, the exit code and what ssh said', () => {
    const result = { ...ok, exitCode: 255, stderr: 'Host key verification failed.\nrsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\n' };
    expect(rsyncFailure('agent@127.0.0.1:/', result, '5m')).toBe('rsync from agent@127.0.0.1:/ failed (exit 255): Host key verification failed.');
  });
});

describe('fetchRsyncRelease with a fake rsync', () => {
  const config = parseConfig(
    ['state_dir: /nonexistent/state', 'stage_dir: /nonexistent/stage', 'source: {url: "agent@10.0.0.5:/", timeout: 5m}', 'report: {bucket: b}'].join('\n'),
    'agent.yaml',
    () => true,
  );
  const active = { id: 'a'.repeat(64), dir: '/nonexistent/state/releases/' + 'a'.repeat(64) };
  const fake = (result: Partial<ExecResult>): { exec: Exec; calls: ExecRequest[] } => {
    const calls: ExecRequest[] = [];
    const exec: Exec = async (request) => {
      calls.push(request);
      return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, durationMs: 1, ...result };
    };
    return { exec, calls };
  };

  it('a plain active release is polled with one itemized dry run, unchanged even when files vanished meanwhile (exit 24)', async () => {
    const rsync = fake({ exitCode: 24, stdout: 'Total bytes received: 1,234\n' });
    const fetched = await fetchRsyncRelease({ exec: rsync.exec, log: silentLog() }, config, statePaths(config), active);
    expect(fetched).toEqual({ status: 'unchanged', releaseId: active.id, releaseDir: active.dir, filesChanged: 0, bytesTransferred: 1234, namedBy: 'the rsync source' });
    expect(rsync.calls).toHaveLength(1);
    expect(rsync.calls[0]?.args).toContain('--dry-run');
  });

  it('a poll that times out is source_unreachable and says after how long', async () => {
    const rsync = fake({ exitCode: null, signal: 'SIGTERM', timedOut: true });
    const error = await fetchRsyncRelease({ exec: rsync.exec, log: silentLog() }, config, statePaths(config), active).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'source_unreachable', message: 'rsync from agent@10.0.0.5:/ timed out after 5m' });
    expect(rsync.calls[0]?.timeoutMs).toBe(300_000); // source.timeout reaches exec's deadline
  });
});

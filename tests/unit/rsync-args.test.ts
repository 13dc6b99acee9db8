import { describe, it, expect } from '@jest/globals';
import { sshCommand, pollArgs, stageArgs, changedItems, parseStats } from '../../agent/source/rsync-args.js';
import { meaningfulStderr } from '../../agent/source/rsync.js';

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
    expect(ssh).not.toMatch(/accept-new|StrictHostKeyChecking=no/);
  });
});

describe('rsync arguments', () => {
  it('polls with a dry run against the active release', () => {
    const args = pollArgs(remote, '/var/lib/agent/releases/abc');
    expect(args).toEqual(expect.arrayContaining(['--dry-run', '--itemize-changes', '--delete', '--safe-links', '-e']));
    expect(args.slice(-2)).toEqual(['agent@10.0.0.5:/', '/var/lib/agent/releases/abc/']);
  });

  it('stages into a fresh directory, hard-linking unchanged files from the active release, no devices', () => {
    const args = stageArgs(remote, '/s/releases/.staging-1', '/s/releases/abc');
    expect(args).toContain('--link-dest=/s/releases/abc');
    expect(args).toContain('--safe-links');
    expect(args).toContain('--delete');
    expect(args).not.toContain('-a');
    expect(args).not.toContain('--devices');
    expect(args.slice(-1)).toEqual(['/s/releases/.staging-1/']);
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
});

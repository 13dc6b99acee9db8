import { spawn } from 'node:child_process';

/**
 * sd_notify through `systemd-notify`: Node cannot send unix datagrams itself. `--pid` names the daemon
 * as the sender, so systemd accepts the message even after systemd-notify has exited (the unit sets
 * NotifyAccess=all). Does nothing outside systemd (no NOTIFY_SOCKET).
 */
export function notifySystemd(state: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!env.NOTIFY_SOCKET) return;
  const child = spawn('systemd-notify', [`--pid=${process.pid}`, state], { stdio: 'ignore' });
  child.on('error', () => undefined); // systemd-notify missing: the watchdog will say so
}

/** Half of WatchdogSec, as systemd recommends; null when no watchdog is configured. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return null;
  return Math.max(Math.floor(usec / 2000), 1000);
}

import { readFile, unlink } from 'node:fs/promises';
import type { DisabledState } from '../report/types.js';
import { writeFileAtomic } from '../adapters/files.js';

/** Whether `state` still holds at `now`: a disable with an expiry lifts itself (SPEC §2 `--for`). */
export function isDisabledAt(state: DisabledState | null, now: Date): state is DisabledState {
  return state !== null && (state.until === null || Date.parse(state.until) > now.getTime());
}

export function disabledState(input: { reason: string; by: string; now: Date; forMs: number | null }): DisabledState {
  return {
    reason: input.reason,
    by: input.by,
    at: input.now.toISOString(),
    until: input.forMs === null ? null : new Date(input.now.getTime() + input.forMs).toISOString(),
  };
}

/** The disable in force, or null; an expired one is removed on the way. */
export async function readDisabled(file: string, now: Date): Promise<DisabledState | null> {
  let state: DisabledState | null;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as DisabledState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // unreadable but present: someone meant to disable; keep runs off rather than guess
    return { reason: 'disabled file is unreadable', by: 'unknown', at: now.toISOString(), until: null };
  }
  if (isDisabledAt(state, now)) return state;
  await unlink(file).catch(() => undefined);
  return null;
}

export async function writeDisabled(file: string, state: DisabledState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

export async function removeDisabled(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch {
    return false;
  }
}

/** One line for people: who disabled runs, since when, until when, why. */
export function describeDisabled(state: DisabledState): string {
  return `runs are disabled by ${state.by} since ${state.at}${state.until ? ` until ${state.until}` : ''}: ${state.reason}`;
}

import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { emptyDriftState, type DriftState } from './drift.js';

/** A missing or unreadable state only means nothing is remembered yet: never a failed run. */
export async function loadDriftState(path: string): Promise<DriftState> {
  const state = await readJsonFile<DriftState>(path);
  return state && state.version === 1 && typeof state.resources === 'object' && Array.isArray(state.recent_corrections)
    ? state
    : emptyDriftState();
}

export async function saveDriftState(path: string, state: DriftState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(state));
}

/**
 * Load and save the DriftState (report/drift.ts) at state_dir/drift-state.json. Losing it costs only
 * memory (the next changes count as intentional until an enforce run teaches the values again), so a
 * missing, unreadable or foreign file loads as the empty state and never fails a run.
 */
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { emptyDriftState, FLAPPING_WINDOW, type DriftState } from './drift.js';

export async function loadDriftState(path: string): Promise<DriftState> {
  return validDriftState(await readJsonFile<unknown>(path).catch(() => undefined));
}

/** Atomic (temp file, fsync, rename): a crash leaves the old state or the new one, never half of one. */
export async function saveDriftState(path: string, state: DriftState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state)}\n`, 0o600);
}

/** Keeps what has the expected shape, so classifyDrift can trust every field (pure). */
export function validDriftState(raw: unknown): DriftState {
  if (!isRecord(raw) || raw.version !== 1 || !isRecord(raw.resources)) return emptyDriftState();
  // fromEntries defines own keys: a hostile `__proto__` key cannot reach a prototype
  const resources: DriftState['resources'] = Object.fromEntries(
    Object.entries(raw.resources).flatMap(([name, entry]) => {
      if (!isRecord(entry) || !isRecord(entry.props)) return [];
      const props = Object.entries(entry.props).filter((pair): pair is [string, string] => typeof pair[1] === 'string');
      return [[name, { props: Object.fromEntries(props) }]];
    }),
  );
  const recent = Array.isArray(raw.recent_corrections) ? raw.recent_corrections : [];
  return {
    version: 1,
    release_id: typeof raw.release_id === 'string' ? raw.release_id : null,
    resources,
    recent_corrections: recent
      .filter((run): run is unknown[] => Array.isArray(run))
      .map((run) => run.filter((name): name is string => typeof name === 'string'))
      .slice(-FLAPPING_WINDOW),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

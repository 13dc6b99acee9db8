import { STATES, type DashboardState, type Snapshot } from './data.js';

/**
 * `history.json`, kept beside the site (SPEC §11): each build appends the counts by state, and the
 * page draws "over time" from them. Pure. Snapshots older than `--days` are dropped; a history written
 * with other states (an older agent) is re-mapped by name, so no count lands in the wrong column.
 */
export const HISTORY_SCHEMA = 'agent.dashboard-history/v1';

export interface HistoryDocument {
  schema: typeof HISTORY_SCHEMA;
  states: readonly DashboardState[];
  snapshots: Snapshot[];
}

export function emptyHistory(): HistoryDocument {
  return { schema: HISTORY_SCHEMA, states: STATES, snapshots: [] };
}

/** A previous history.json, or a problem that names what was wrong with it (the build starts afresh). */
export function parseHistory(text: string): { history: HistoryDocument } | { problem: string } {
  let value: Partial<HistoryDocument>;
  try {
    value = JSON.parse(text) as Partial<HistoryDocument>;
  } catch (error) {
    return { problem: `history.json: not valid JSON (${(error as Error).message}); starting a new history` };
  }
  if (value?.schema !== HISTORY_SCHEMA || !Array.isArray(value.states) || !Array.isArray(value.snapshots)) {
    return { problem: `history.json: expected schema "${HISTORY_SCHEMA}" with states and snapshots; starting a new history` };
  }
  const from = value.states;
  const snapshots = value.snapshots
    .filter((snapshot) => snapshot && typeof snapshot.at === 'string' && Array.isArray(snapshot.counts) && !Number.isNaN(Date.parse(snapshot.at)))
    .map((snapshot) => ({ at: snapshot.at, counts: STATES.map((state) => Number(snapshot.counts[from.indexOf(state)] ?? 0) || 0) }));
  return { history: { schema: HISTORY_SCHEMA, states: STATES, snapshots } };
}

/** The history with this build's counts appended, sorted by time, without snapshots older than `days`. */
export function appendSnapshot(history: HistoryDocument, at: Date, byState: Record<DashboardState, number>, days: number): HistoryDocument {
  const oldest = at.getTime() - days * 86_400_000;
  const kept = history.snapshots.filter((snapshot) => Date.parse(snapshot.at) >= oldest && Date.parse(snapshot.at) < at.getTime());
  const snapshot: Snapshot = { at: at.toISOString(), counts: STATES.map((state) => byState[state] ?? 0) };
  return { schema: HISTORY_SCHEMA, states: STATES, snapshots: [...kept, snapshot].sort((a, b) => a.at.localeCompare(b.at)) };
}

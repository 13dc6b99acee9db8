/**
 * Human-readable progress of one run, stage by stage (SPEC §2 run-now: what, how long, how many).
 * The run reports events; how they are shown is the caller's business (stderr for run-now, nothing
 * for the daemon's children, whose logs go to the journal).
 */
export type StageName = 'lock' | 'poll' | 'stage' | 'activate' | 'apply' | 'report';

export interface Progress {
  started(stage: StageName, what: string): void;
  finished(stage: StageName, outcome: string, durationMs: number): void;
  note(message: string): void;
}

export const silentProgress: Progress = { started() {}, finished() {}, note() {} };

export function streamProgress(write: (text: string) => void): Progress {
  return {
    started(stage, what) {
      write(`agent: ${stage.padEnd(8)} ${what}\n`);
    },
    finished(stage, outcome, durationMs) {
      write(`agent: ${stage.padEnd(8)} ${outcome} (${formatSeconds(durationMs)})\n`);
    },
    note(message) {
      write(`agent: ${message}\n`);
    },
  };
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

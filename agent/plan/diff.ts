/**
 * File diffs for plan reports, pure. Puppet 7 under `--noop --show_diff` logs a file's content change
 * as a notice whose source is `/Stage[main]/.../File[<title>]/content` and whose message is a unified
 * diff (checked on 7.23): its `---`/`+++` headers name the host's file and a temp file with
 * timestamps. The headers are replaced by `--- current` / `+++ planned`, so the same change on two
 * hosts is the same diff; then `report.redact` applies, then the size cap.
 */
export interface PlanDiff {
  lines: string[];
  /** The diff was cut at `report.plan_diff_max` bytes. */
  truncated: boolean;
}

/** The unified diff Puppet logged for `resource` (`File[motd]`), or undefined. */
export function diffFromLogs(logs: readonly { source: string; message: string }[], resource: string): string | undefined {
  const log = logs.find((entry) => entry.source.endsWith(`/${resource}/content`) && /^\s*--- /.test(entry.message) && entry.message.includes('\n@@'));
  return log?.message;
}

export function cleanDiff(text: string, redact: readonly RegExp[], maxBytes: number): PlanDiff {
  const lines = text.replace(/^\n+/, '').replace(/\n$/, '').split('\n');
  const body = lines.map((line, index) => {
    if (index === 0 && line.startsWith('--- ')) return '--- current';
    if (index === 1 && line.startsWith('+++ ')) return '+++ planned';
    return redact.reduce((out, pattern) => out.replace(pattern, '[redacted]'), line);
  });
  const kept: string[] = [];
  let bytes = 0;
  for (const line of body) {
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > maxBytes) return { lines: kept, truncated: true };
    kept.push(line);
  }
  return { lines: kept, truncated: false };
}

import { readFileSync } from 'node:fs';

/** The agent's version from package.json, read once; the build may append a commit (see ami/). */
export function agentVersion(): string {
  // dist/agent/version.js when built, agent/version.ts under jest
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const text = readFileSync(new URL(relative, import.meta.url), 'utf8');
      const parsed = JSON.parse(text) as { name?: string; version?: string };
      if (parsed.name === 'agent' && parsed.version) return parsed.version;
    } catch {
      // not there: try the next layout
    }
  }
  return '0.0.0-unknown';
}

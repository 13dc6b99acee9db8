import { readFileSync } from 'node:fs';

/**
 * The agent's version, and the commit it was built from when the build recorded one
 * (dist/agent/build-info.json, written by ami/build-info.mjs). Falls back to package.json.
 */
export function agentVersion(): string {
  return buildInfo().version;
}

export function buildInfo(): { version: string; commit: string } {
  for (const relative of ['./build-info.json', '../build-info.json']) {
    try {
      // beside this module (tsc's dist/agent/), or one up from the bundle's dist/agent/chunks/
      return JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { version: string; commit: string };
    } catch {
      // under jest (agent/version.ts) or before the first build
    }
  }
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'agent' && parsed.version) return { version: parsed.version, commit: 'unknown' };
    } catch {
      // not there: try the next layout
    }
  }
  return { version: '0.0.0-unknown', commit: 'unknown' };
}

// Records the version and commit the build came from in dist/agent/build-info.json,
// so `agent --version` on an image says exactly which code it runs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout (an unpacked tarball): keep "unknown"
}
writeFileSync(new URL('dist/agent/build-info.json', root), `${JSON.stringify({ version, commit })}\n`);

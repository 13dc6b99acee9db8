/** Bundle one bench script the way tools/bundle.mjs bundles the agent (one minified ESM file), into `outDir`. */
import { build } from 'esbuild';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export async function bundleLikeTheAgent(entryFromRoot: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'bundled.mjs');
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entryFromRoot],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    banner: { js: "import { createRequire as __agentRequire } from 'node:module'; const require = __agentRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

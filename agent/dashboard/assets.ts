import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Assets } from './site.js';

/**
 * The page's own files (agent/dashboard/web/, plain browser scripts that need no build step) and the
 * charting library, copied from node_modules so the site needs no CDN. From the sources (tests) web/ is
 * beside this file; from dist/ it is the package's agent/dashboard/web/.
 */
const CANDIDATES = ['./web/', '../../../agent/dashboard/web/'];
const UPLOT = ['uplot/dist/uPlot.iife.min.js', 'uplot/dist/uPlot.min.css'];

export function webDir(): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${path}index.html`)) return path;
  }
  throw new Error(`dashboard: the page's files are missing: looked for index.html in ${CANDIDATES.map((candidate) => fileURLToPath(new URL(candidate, import.meta.url))).join(' and ')}`);
}

export function loadAssets(): Assets {
  const dir = webDir();
  const own = readdirSync(dir)
    .filter((name) => /\.(html|js|css)$/.test(name))
    .map((name) => ({ path: name, body: readFileSync(`${dir}${name}`, 'utf8') }));
  const require = createRequire(import.meta.url);
  const vendor = UPLOT.map((module) => ({ path: `vendor/${module.slice(module.lastIndexOf('/') + 1)}`, body: readFileSync(require.resolve(module), 'utf8') }));
  return [...vendor, ...own];
}

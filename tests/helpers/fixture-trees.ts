import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TREES = new URL('../fixtures/trees/', import.meta.url).pathname;

/** The shared fixture Puppet tree (tests/fixtures/trees/sandbox/README): what a source serves unless a test says otherwise. */
export const SANDBOX_TREE = join(TREES, 'sandbox');

/**
 * The trees a test can lay down, each a base and the overlays on it (only the files that differ):
 * - sandbox: the shared tree
 * - sandbox-failing: its release that fails to apply (another site.pp)
 * - plan, plan-v2: the role-dependent plan fixture and its candidate (other Hiera data)
 */
const LAYERS = {
  sandbox: ['sandbox'],
  'sandbox-failing': ['sandbox', 'sandbox-failing'],
  plan: ['plan'],
  'plan-v2': ['plan', 'plan-v2'],
} as const;
export type FixtureTree = keyof typeof LAYERS;

/** Copy a directory with its symlinks as they are: Node's cp makes a relative link absolute, and the agent refuses a tree with one. */
export function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

/** Make `dir` hold exactly fixture tree `name` (created if missing, its previous content gone). Returns `dir`. */
export function layFixtureTree(dir: string, name: FixtureTree): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  for (const layer of LAYERS[name]) copyTree(join(TREES, layer), dir);
  return dir;
}

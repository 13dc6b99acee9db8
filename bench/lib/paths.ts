/**
 * Paths in the repository, from the compiled file's place (dist/bench/lib/). The test helpers resolve
 * theirs relative to tests/helpers/ (right under jest, which runs the .ts sources, wrong from dist/),
 * so the bench names its own.
 */
const ROOT = new URL('../../../', import.meta.url);

export const REPO_ROOT = ROOT.pathname;
/** The built binary, as an operator runs it; BENCH_AGENT_BIN measures another build (e.g. an older commit's). */
export const AGENT_BIN = process.env.BENCH_AGENT_BIN || new URL('dist/agent/main.js', ROOT).pathname;
/** The shared fixture Puppet tree (tests/fixtures/trees/sandbox/README); copy it with copyTree (it has a relative link). */
export const FIXTURE_TREE = new URL('tests/fixtures/trees/sandbox/', ROOT).pathname;
export const S3RVER_MAIN = new URL('tests/helpers/s3rver-main.mjs', ROOT).pathname;
export const BENCH_DIR = new URL('bench/', ROOT).pathname;

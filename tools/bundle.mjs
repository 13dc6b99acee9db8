// Bundles the agent's binary (dist/agent/main.js) with esbuild, after tsc has type-checked and built dist/.
// Start-up then reads a handful of files instead of several hundred: every tick's child pays it.
// Commands and the heavy libraries (the S3 SDK, the YAML parser, the Puppet report code) stay in chunks
// (dist/agent/chunks/) loaded only when a run needs them. The rest of dist/ (tsc's output) stays for the
// benchmarks and tools that import single modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
rmSync(new URL('dist/agent/chunks', root), { recursive: true, force: true });
await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints: ['agent/main.ts'],
  outdir: 'dist/agent',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // several dependencies are CommonJS and call require() for Node's own modules
  banner: { js: "import { createRequire as __agentRequire } from 'node:module'; const require = __agentRequire(import.meta.url);" },
  // DuckDB is a native engine, loaded from node_modules by `fleet query` alone (a workstation command)
  external: ['@duckdb/node-api'],
  logLevel: 'warning',
});

import { AgentError, describeError } from '../errors.js';
import { indexTree } from '../release/tree-index.js';
import { isReleaseMetadata } from '../release/release-id.js';
import type { ManifestFile } from '../release/manifest.js';

/**
 * Every file of the tree to publish with its digest, size and mode (`.release/` left out). Devices,
 * fifos and symlinks out of the tree are refused here, on the publisher's machine, as the agent would.
 */
export async function publishableFiles(dir: string): Promise<Record<string, ManifestFile>> {
  let index;
  try {
    index = await indexTree(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentError('internal', code ? `cannot read ${dir}: ${describeError(error)}` : `${dir}: ${describeError(error)}`);
  }
  const files: Record<string, ManifestFile> = {};
  for (const [path, file] of Object.entries(index.files)) {
    if (!isReleaseMetadata(path)) files[path] = { sha256: file.sha256, size: file.size, mode: file.mode };
  }
  if (Object.keys(files).length === 0) throw new AgentError('internal', `${dir}: no files to publish`);
  return files;
}

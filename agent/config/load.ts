import { readFileSync, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { AgentError } from '../errors.js';
import { configSchema, describe, type Config } from './schema.js';
import { checkConfigSemantics } from './semantics.js';
import { deepFreeze } from './deep-freeze.js';

/**
 * Read and validate the config file. Throws one AgentError('config') whose message lists every
 * problem, one per line, each naming the file and key path. Reads only: a failed load changes nothing.
 */
export function loadConfig(path: string): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new AgentError('config', `${path}: cannot read the config file: ${reason}`, { cause: error });
  }
  return parseConfig(text, path, existsSync);
}

/** Validate config text (pure but for `fileExists`, which checks the paths the config names). */
export function parseConfig(text: string, path: string, fileExists: (file: string) => boolean): Readonly<Config> {
  const name = basename(path);
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => `${name}: YAML syntax: ${error.message.split('\n')[0]}`);
    throw new AgentError('config', problems.join('\n'));
  }
  let raw: unknown;
  try {
    raw = document.toJS() ?? {};
  } catch (error) {
    // what parses but cannot resolve, e.g. an alias (*a) before its anchor (&a)
    throw new AgentError('config', `${name}: YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AgentError('config', `${name}: expected a mapping of settings at the top level, got ${describe(raw)}`);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new AgentError('config', parsed.error.issues.map((issue) => `${name}: ${formatIssue(issue)}`).join('\n'));
  }
  const problems = checkConfigSemantics(parsed.data, fileExists);
  if (problems.length > 0) {
    throw new AgentError('config', problems.map((problem) => `${name}: ${problem}`).join('\n'));
  }
  return deepFreeze(parsed.data);
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${at ? `${at}.` : ''}${key}: unknown key`).join('; ');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const expected = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number' }[issue.expected as string];
    return `${at}: required, expected ${expected ?? issue.expected}`;
  }
  return `${at || '(top level)'}: ${issue.message}`;
}

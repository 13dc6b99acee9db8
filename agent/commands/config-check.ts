import { stringify } from 'yaml';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { configFor } from './config-for.js';
import { maskSecrets } from '../config/mask.js';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';

const DURATION_KEYS = new Set(['splay', 'drift_check_every', 'stop_grace', 'timeout']);

/** `agent config check`: validate, then print the resolved config (every default filled in, secrets masked). */
export async function configCheckCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { path, config } = configFor(command.values, io.env);
  // --json: the resolved config as data (durations in ms); the daemon reads it this way
  if (command.values.json) io.stdout.write(`${JSON.stringify(maskSecrets(config))}\n`);
  else io.stdout.write(`# ${path}: valid\n${stringify(maskSecrets(displayable(config)))}`);
  return 0;
}

/** Durations back in the config's own units, so the output can be pasted into a config file. */
function displayable(config: Readonly<Config>): unknown {
  const convert = (value: unknown, key: string): unknown => {
    if (DURATION_KEYS.has(key) && typeof value === 'number') return formatDuration(value);
    if (Array.isArray(value)) return value.map((item) => convert(item, ''));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, convert(child, name)]));
    }
    return value;
  };
  return convert(config, '');
}

import { readFile, writeFile } from 'node:fs/promises';
import { AgentError } from '../errors.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, type TrustedKey } from './signature.js';
import type { KeyObject } from 'node:crypto';

/**
 * `agent keygen --out PREFIX`: PREFIX.key (mode 0600, the publisher's; never in an image) and
 * PREFIX.pub (for verify.public_keys). Refuses to overwrite either: a lost signing key is a fleet
 * that trusts nobody's releases until its config changes.
 */
export async function writeKeyPair(prefix: string): Promise<{ keyFile: string; pubFile: string }> {
  const keyFile = `${prefix}.key`;
  const pubFile = `${prefix}.pub`;
  const { privateKey, publicKey } = generateKeyPair();
  try {
    await writeFile(keyFile, privateKey, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new AgentError('internal', refusal(keyFile, error));
  }
  try {
    await writeFile(pubFile, publicKey, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new AgentError('internal', `${refusal(pubFile, error)} (${keyFile} was written)`);
  }
  return { keyFile, pubFile };
}

function refusal(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EEXIST' ? `${file} exists: keygen never overwrites a key` : `cannot write ${file}: ${(error as Error).message}`;
}

export async function readPrivateKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new AgentError('internal', `--key ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return parsePrivateKey(pem, `--key ${file}`);
  } catch (error) {
    throw new AgentError('internal', (error as Error).message);
  }
}

/**
 * verify.public_keys, loaded for one run. A key file that is missing or not an Ed25519 public key
 * refuses every release (never "no keys, so accept anything"), with the file named.
 */
export async function readTrustedKeys(files: readonly string[]): Promise<TrustedKey[]> {
  return Promise.all(
    files.map(async (file, index) => {
      const where = `verify.public_keys.${index} (${file})`;
      try {
        return { name: file, key: parsePublicKey(await readFile(file, 'utf8'), where) };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AgentError('source_rejected', code ? `${where}: cannot read the key (${code}): no release can be trusted` : (error as Error).message);
      }
    }),
  );
}

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** Ed25519 with Node's own crypto (SPEC §8): no key format or algorithm to negotiate. */

export interface KeyPairPem {
  privateKey: string;
  publicKey: string;
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}

/** A PEM Ed25519 key, or an Error that names `where` and says what it is instead. */
function parseKey(pem: string, where: string, kind: 'private' | 'public'): KeyObject {
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (error) {
    throw new Error(`${where}: not a PEM ${kind} key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${where}: expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  return key;
}

export const parsePrivateKey = (pem: string, where: string): KeyObject => parseKey(pem, where, 'private');
export const parsePublicKey = (pem: string, where: string): KeyObject => parseKey(pem, where, 'public');

/** manifest.sig: base64 of the Ed25519 signature over the exact manifest bytes, one line. */
export function signManifest(manifestBytes: Buffer | string, privateKey: KeyObject): string {
  return `${sign(null, Buffer.from(manifestBytes), privateKey).toString('base64')}\n`;
}

export interface TrustedKey {
  /** Where the key came from (a verify.public_keys path), named in logs and reports. */
  name: string;
  key: KeyObject;
}

/**
 * The first trusted key whose signature over `manifestBytes` this is, or undefined. A signature
 * that is not 64 bytes of base64 (truncated, padded, garbage) matches no key.
 */
export function findSigner(manifestBytes: Buffer, signatureText: string, keys: readonly TrustedKey[]): TrustedKey | undefined {
  const text = signatureText.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const signature = Buffer.from(text, 'base64');
  if (signature.length !== 64) return undefined;
  return keys.find((trusted) => verify(null, manifestBytes, trusted.key, signature));
}

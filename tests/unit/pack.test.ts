import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { packOrder, PackMismatch, readPack, shouldUsePack, type PackEntry } from '../../agent/source/pack.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const file = (text: string, mode = '0644') => ({ sha256: sha(text), size: Buffer.byteLength(text), mode });
const manifest = { files: { 'a.txt': file('alpha\n'), 'b/b.txt': file('bravo bravo\n'), 'c.txt': file('alpha\n', '0755'), empty: file(''), 'link': file('a.txt', '120000') } };

/** A pack as publish writes it; `edit` tampers with the concatenated bytes before gzip. */
function packOf(entries: PackEntry[], contents: Record<string, string>, edit = (bytes: Buffer) => bytes, chunk = 3): Readable {
  const joined = edit(Buffer.concat(entries.map((entry) => Buffer.from(contents[entry.sha256]!))));
  const gz = gzipSync(joined);
  const pieces: Buffer[] = [];
  for (let at = 0; at < gz.length; at += chunk) pieces.push(gz.subarray(at, at + chunk));
  return Readable.from(pieces);
}

const contents = Object.fromEntries(['alpha\n', 'bravo bravo\n', '', 'a.txt'].map((text) => [sha(text), text]));

describe('release packs', () => {
  it('lists each object once, in digest order', () => {
    const order = packOrder(manifest);
    expect(order).toHaveLength(4);
    expect(order.map((entry) => entry.sha256)).toEqual([...order.map((entry) => entry.sha256)].sort());
  });

  it('hands on every object, checked against its digest, however the stream is cut', async () => {
    const order = packOrder(manifest);
    for (const chunk of [1, 7, 1000]) {
      const seen: string[] = [];
      await readPack(packOf(order, contents, undefined, chunk), order, (entry, bytes) => {
        expect(sha(bytes.toString())).toBe(entry.sha256);
        seen.push(entry.sha256);
      });
      expect(seen).toEqual(order.map((entry) => entry.sha256));
    }
  });

  it('refuses a piece that does not hash to its digest, and hands on nothing from there', async () => {
    const order = packOrder(manifest);
    const seen: string[] = [];
    const tampered = packOf(order, contents, (bytes) => Buffer.from(bytes.toString().replace('bravo', 'evil!')));
    await expect(readPack(tampered, order, (entry) => seen.push(entry.sha256))).rejects.toBeInstanceOf(PackMismatch);
    expect(seen).not.toContain(sha('bravo bravo\n'));
  });

  it('refuses a short pack and one with trailing bytes', async () => {
    const order = packOrder(manifest);
    await expect(readPack(packOf(order, contents, (bytes) => bytes.subarray(0, bytes.length - 2)), order, () => undefined)).rejects.toBeInstanceOf(PackMismatch);
    await expect(readPack(packOf(order, contents, (bytes) => Buffer.concat([bytes, Buffer.from('x')])), order, () => undefined)).rejects.toBeInstanceOf(PackMismatch);
  });

  it('is used only when the cache lacks most of a release', () => {
    expect(shouldUsePack(10_000, 10_000)).toBe(true);
    expect(shouldUsePack(1, 10_000)).toBe(false);
    expect(shouldUsePack(20, 22)).toBe(false); // a small release: single GETs are as cheap
  });
});

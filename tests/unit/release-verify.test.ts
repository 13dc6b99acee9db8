import { describe, it, expect } from '@jest/globals';
import { buildManifest, parseManifest, parsePointer, serializeManifest, unsafePath, type ManifestFile } from '../../agent/release/manifest.js';
import { findSigner, generateKeyPair, parsePrivateKey, parsePublicKey, signManifest } from '../../agent/release/signature.js';
import { checkTreeMatchesManifest, trustManifest, type TrustPolicy } from '../../agent/release/verify.js';
import { nextManifest, serialWarning } from '../../agent/publish/next-manifest.js';
import { AgentError } from '../../agent/errors.js';

const digest = (char: string) => char.repeat(64);
const FILES: Record<string, ManifestFile> = {
  'manifests/site.pp': { sha256: digest('a'), size: 10, mode: '0644' },
  'modules/ntp/files/ntp.conf': { sha256: digest('b'), size: 20, mode: '0600' },
  'bin/current': { sha256: digest('c'), size: 7, mode: '120000' },
};
const NOW = new Date('2026-11-25T10:00:00Z');
const manifestOf = (serial: number, files = FILES) => buildManifest(files, { serial, createdAt: NOW, createdBy: 'ops@build' });

function keyPair(name: string) {
  const pem = generateKeyPair();
  return { name, privateKey: parsePrivateKey(pem.privateKey, name), trusted: { name, key: parsePublicKey(pem.publicKey, name) } };
}
const publisher = keyPair('/etc/agent/release.pub');
const stranger = keyPair('/tmp/other.pub');

function offered(serial: number, signWith = publisher) {
  const bytes = Buffer.from(serializeManifest(manifestOf(serial)));
  return { bytes, signature: signManifest(bytes, signWith.privateKey), where: '.release/manifest.json' };
}
const policy = (overrides: Partial<TrustPolicy> = {}): TrustPolicy => ({ keys: [publisher.trusted], active: null, allowDowngrade: false, ...overrides });

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('source_rejected');
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('release manifest', () => {
  it('lists files in byte order, and its id is the SPEC §5 id of those files', () => {
    const manifest = manifestOf(3);
    expect(Object.keys(manifest.files)).toEqual(['bin/current', 'manifests/site.pp', 'modules/ntp/files/ntp.conf']);
    expect(parseManifest(serializeManifest(manifest), 'm.json')).toEqual(manifest);
  });

  it('leaves .release/ out of the manifest it builds', () => {
    const manifest = buildManifest({ ...FILES, '.release/manifest.json': { sha256: digest('d'), size: 1, mode: '0644' } }, { serial: 1, createdAt: NOW, createdBy: 'x' });
    expect(Object.keys(manifest.files)).not.toContain('.release/manifest.json');
  });

  it.each([
    ['/etc/passwd', 'is an absolute path'],
    ['../escape', 'has an empty, "." or ".." component'],
    ['a/../../b', 'has an empty, "." or ".." component'],
    ['a//b', 'has an empty, "." or ".." component'],
    ['./a', 'has an empty, "." or ".." component'],
    ['.release/extra', 'lies under .release/'],
    ['', 'is empty'],
  ])('refuses the path %j: it %s', (path, reason) => {
    expect(unsafePath(path)).toContain(reason);
    const manifest = { ...manifestOf(1), files: { [path]: { sha256: digest('a'), size: 1, mode: '0644' } } };
    expect(rejection(() => parseManifest(JSON.stringify(manifest), 'm.json'))).toContain(`m.json: files: "${path}"`);
  });

  it('refuses a file under a symlink entry: assembling it would write wherever the link points', () => {
    const files = { etc: { sha256: digest('a'), size: 4, mode: '120000' }, 'etc/cron.d/evil': { sha256: digest('b'), size: 1, mode: '0644' } };
    const manifest = buildManifest(files, { serial: 1, createdAt: NOW, createdBy: 'x' });
    expect(rejection(() => parseManifest(serializeManifest(manifest), 'm.json'))).toBe('m.json: files: "etc/cron.d/evil" lies under "etc", which is a symlink (a file written there would land wherever it points)');
  });

  it('refuses a release_id that is not the id of the listed files, naming both', () => {
    const manifest = { ...manifestOf(1), release_id: digest('f') };
    expect(rejection(() => parseManifest(JSON.stringify(manifest), 'm.json'))).toMatch(/^m\.json: release_id ffffffffffff is not the id of the files it lists \([0-9a-f]{12}\)$/);
  });

  it.each([
    ['not json', '{', /not valid JSON/],
    ['another schema', JSON.stringify({ ...manifestOf(1), schema: 'x/v9' }), /schema: expected "agent\.release\/v1"/],
    ['a serial of 0', JSON.stringify({ ...manifestOf(1), serial: 0 }), /serial: expected a whole number >= 1, got 0/],
    ['a bad digest', JSON.stringify({ ...manifestOf(1), files: { a: { sha256: 'xyz', size: 1, mode: '0644' } } }), /files\."a"\.sha256: expected 64 hex digits/],
    ['a bad mode', JSON.stringify({ ...manifestOf(1), files: { a: { sha256: digest('a'), size: 1, mode: '644' } } }), /files\."a"\.mode/],
  ])('refuses %s with the field named', (_case, text, reason) => {
    expect(rejection(() => parseManifest(text, 'm.json'))).toMatch(reason);
  });

  it('parses current.json pointers and refuses malformed ones', () => {
    expect(parsePointer(JSON.stringify({ release_id: digest('a'), serial: 4 }), 'current.json')).toEqual({ release_id: digest('a'), serial: 4 });
    expect(rejection(() => parsePointer('{"release_id":"short","serial":1}', 'current.json'))).toMatch(/^current\.json: release_id/);
  });
});

describe('signatures', () => {
  const bytes = Buffer.from('{"a":1}\n');
  const signature = signManifest(bytes, publisher.privateKey);

  it('finds the trusted key that signed, and none for other bytes, other keys or a damaged signature', () => {
    expect(findSigner(bytes, signature, [stranger.trusted, publisher.trusted])?.name).toBe(publisher.name);
    expect(findSigner(Buffer.from('{"a":2}\n'), signature, [publisher.trusted])).toBeUndefined();
    expect(findSigner(bytes, signature, [stranger.trusted])).toBeUndefined();
    expect(findSigner(bytes, signature.slice(0, 40), [publisher.trusted])).toBeUndefined();
    expect(findSigner(bytes, 'not base64 at all!', [publisher.trusted])).toBeUndefined();
  });

  it('refuses a key that is not Ed25519, naming where it came from', () => {
    expect(() => parsePublicKey('garbage', 'verify.public_keys.0 (/k.pub)')).toThrow(/^verify\.public_keys\.0 \(\/k\.pub\): not a PEM public key/);
  });
});

describe('trusting an offered manifest', () => {
  it('accepts a manifest signed by a configured key', () => {
    expect(trustManifest(offered(1), policy())?.serial).toBe(1);
  });

  it('accepts an unsigned plain tree only when no keys are configured', () => {
    expect(trustManifest({ bytes: null, signature: null, where: '.release/manifest.json' }, policy({ keys: [] }))).toBeNull();
    expect(rejection(() => trustManifest({ bytes: null, signature: null, where: '.release/manifest.json' }, policy()))).toMatch(/unsigned/);
  });

  it.each([
    ['signed by an unknown key', () => offered(1, stranger)],
    ['edited after signing', () => ({ ...offered(1), bytes: Buffer.from(offered(1).bytes.toString().replace('ops@build', 'evil@host')) })],
    ['with a truncated signature', () => ({ ...offered(1), signature: offered(1).signature.slice(0, 20) })],
  ])('refuses a manifest %s, naming the keys tried', (_case, make) => {
    expect(rejection(() => trustManifest(make(), policy()))).toMatch(/the signature does not verify with any key in verify\.public_keys \(\/etc\/agent\/release\.pub\)/);
  });

  it('refuses a signed release without a signature file', () => {
    expect(rejection(() => trustManifest({ ...offered(1), signature: null }, policy()))).toMatch(/has no signature/);
  });

  it('refuses a lower serial (a replay) unless the operator allows the downgrade', () => {
    const active = { id: digest('9'), serial: 5 };
    expect(rejection(() => trustManifest(offered(4), policy({ active })))).toMatch(/serial 4, lower than the active release's 5 .*--allow-downgrade/);
    expect(trustManifest(offered(4), policy({ active, allowDowngrade: true }))?.serial).toBe(4);
    expect(trustManifest(offered(6), policy({ active }))?.serial).toBe(6);
  });

  it('refuses an equal serial with other content, and accepts the active release itself', () => {
    const same = manifestOf(5);
    expect(rejection(() => trustManifest(offered(5), policy({ active: { id: digest('9'), serial: 5 } })))).toMatch(/the same as the active release/);
    expect(trustManifest(offered(5), policy({ active: { id: same.release_id, serial: 5 } }))?.release_id).toBe(same.release_id);
  });

  it('checks serials against an unsigned active release not at all', () => {
    expect(trustManifest(offered(1), policy({ active: { id: digest('9'), serial: null } }))?.serial).toBe(1);
  });
});

describe('a staged tree against its manifest', () => {
  const manifest = manifestOf(1);
  const tree = () => Object.fromEntries(Object.entries(FILES).map(([path, file]) => [path, { ...file }]));

  it('passes when the files are exactly the manifest’s (.release/ itself aside)', () => {
    expect(() => checkTreeMatchesManifest(manifest, { ...tree(), '.release/manifest.json': { sha256: digest('e'), size: 1, mode: '0644' } })).not.toThrow();
  });

  it('names every difference: content, mode, missing and extra files', () => {
    const staged = tree();
    staged['manifests/site.pp']!.sha256 = digest('0');
    staged['modules/ntp/files/ntp.conf']!.mode = '0644';
    delete staged['bin/current'];
    staged['extra'] = { sha256: digest('1'), size: 1, mode: '0644' };
    const message = rejection(() => checkTreeMatchesManifest(manifest, staged));
    expect(message).toContain('manifests/site.pp: content differs from the manifest');
    expect(message).toContain('modules/ntp/files/ntp.conf: mode 0644, manifest says 0600');
    expect(message).toContain('bin/current: missing');
    expect(message).toContain('extra: not in the manifest (extra file)');
  });
});

describe('the manifest publish writes', () => {
  it('numbers a new tree one past every release seen, and keeps the stamp of a tree published before', () => {
    const old = new Date(0);
    const first = nextManifest(FILES, [], old, 'ops@build');
    expect(first.serial).toBe(1);
    const later = new Date('1970-01-01T00:00:05Z');
    const again = nextManifest(FILES, [first, { release_id: digest('9'), serial: 7 }], later, 'someone@else');
    expect(serializeManifest(again)).toBe(serializeManifest(first));
    const changed = { ...FILES, 'manifests/site.pp': { sha256: digest('2'), size: 11, mode: '0644' } };
    expect(nextManifest(changed, [first, { release_id: digest('9'), serial: 7 }], later, 'x').serial).toBe(8);
  });

  it('never numbers a new tree below the publish time in seconds, so a publisher that lost .release/ still goes forward', () => {
    expect(nextManifest(FILES, [], NOW, 'ci@runner').serial).toBe(NOW.getTime() / 1000);
    const changed = { ...FILES, 'manifests/site.pp': { sha256: digest('2'), size: 11, mode: '0644' } };
    const taken = nextManifest(FILES, [], NOW, 'ci@runner');
    // a second publish in the same second still gets a higher serial
    expect(nextManifest(changed, [taken], NOW, 'ci@runner').serial).toBe(taken.serial + 1);
  });

  it('takes --serial N as given, and says when hosts would refuse it', () => {
    expect(nextManifest(FILES, [{ release_id: digest('9'), serial: 40 }], NOW, 'x', 41).serial).toBe(41);
    expect(serialWarning(41, [{ release_id: digest('9'), serial: 40 }])).toBeNull();
    expect(serialWarning(40, [{ release_id: digest('9'), serial: 40 }])).toMatch(/not above serial 40.*--allow-downgrade/);
  });
});

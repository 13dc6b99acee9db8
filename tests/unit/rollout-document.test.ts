import { describe, it, expect } from '@jest/globals';
import { AgentError } from '../../agent/errors.js';
import { isOpen, parseMaxFailed, parseRollout, serializeRollout, stepsProblem, type RolloutDocument } from '../../agent/rollout/document.js';
import { trustRollout } from '../../agent/rollout/trust.js';
import { startRollout, type StartInput } from '../../agent/rollout/transitions.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signManifest, type TrustedKey } from '../../agent/release/signature.js';
import { withFailedRelease, type FailedRelease } from '../../agent/release/failed-releases.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const WHERE = 's3://fleet/prod/rollout.json';

function rolloutOf(overrides: Partial<StartInput> = {}): RolloutDocument {
  return startRollout({
    rolloutId: 'r-20261125-web',
    serial: 5,
    candidate: { release_id: 'c'.repeat(64), serial: 8 },
    previous: { release_id: 'a'.repeat(64), serial: 7 },
    steps: [1, 10, 50, 100],
    canaryRole: null,
    bake: '10m',
    maxFailed: '5%',
    onFailure: 'abort',
    now: NOW,
    by: 'ops@publisher',
    ...overrides,
  });
}

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

function keyPair(name: string) {
  const pem = generateKeyPair();
  return { privateKey: parsePrivateKey(pem.privateKey, name), trusted: { name, key: parsePublicKey(pem.publicKey, name) } satisfies TrustedKey };
}
const publisher = keyPair('/etc/agent/release.pub');
const stranger = keyPair('/tmp/other.pub');

function offered(doc: RolloutDocument, signWith: ReturnType<typeof keyPair> | null = publisher) {
  const bytes = Buffer.from(serializeRollout(doc));
  return { bytes, signature: signWith ? signManifest(bytes, signWith.privateKey) : null, where: WHERE };
}

describe('rollout document: parse', () => {
  it('accepts the document startRollout makes, as it was', () => {
    const doc = rolloutOf();
    expect(parseRollout(serializeRollout(doc), WHERE)).toEqual(doc);
  });

  it('accepts a canary rollout, whose step 0 is 0%', () => {
    const doc = rolloutOf({ canaryRole: 'canary' });
    expect(doc.steps).toEqual([0, 1, 10, 50, 100]);
    expect(parseRollout(serializeRollout(doc), WHERE)).toEqual(doc);
  });

  it.each([
    ['not valid JSON', '{"schema":', /^s3:\/\/fleet\/prod\/rollout\.json: not valid JSON/],
    ['an array', '[]', /: expected a JSON object$/],
    ['null', 'null', /: expected a JSON object$/],
    ['a string', '"rollout"', /: expected a JSON object$/],
  ])('refuses a document that is %s', (_, text, message) => {
    expect(rejection(() => parseRollout(text, WHERE))).toMatch(message);
  });

  const broken: Array<[string, unknown]> = [
    ['schema', 'agent.rollout/v2'],
    ['schema', undefined],
    ['rollout_id', ''],
    ['rollout_id', 'has spaces'],
    ['rollout_id', '../escape/'],
    ['rollout_id', 7],
    ['serial', 0],
    ['serial', 1.5],
    ['serial', '6'],
    ['serial', undefined],
    ['candidate', undefined],
    ['candidate', { release_id: 'C'.repeat(64), serial: 8 }],
    ['candidate', { release_id: 'c'.repeat(63), serial: 8 }],
    ['candidate', { release_id: 'c'.repeat(64), serial: '8' }],
    ['previous', null],
    ['previous', { serial: 7 }],
    ['steps', '1,10,100'],
    ['steps', [10, 101]],
    ['steps', [-1, 100]],
    ['steps', [10, '50', 100]],
    ['steps', []],
    ['step', -1],
    ['step', 4],
    ['step', 1.5],
    ['step', '0'],
    ['canary_role', undefined],
    ['canary_role', 5],
    ['bake', '10 minutes'],
    ['bake', 600],
    ['bake', ''],
    ['max_failed', '101%'],
    ['max_failed', 'x'],
    ['max_failed', 3],
    ['on_failure', 'rollback'],
    ['on_failure', undefined],
    ['state', 'done'],
    ['state', undefined],
    ['started_at', 'yesterday'],
    ['step_started_at', undefined],
    ['updated_at', 12],
    ['reason', undefined],
    ['reason', 42],
    ['created_by', undefined],
    ['history', undefined],
    ['history', {}],
  ];
  it.each(broken)('refuses %s = %j with a message naming the key', (key, value) => {
    const doc: Record<string, unknown> = { ...rolloutOf() };
    if (value === undefined) delete doc[key];
    else doc[key] = value;
    const message = rejection(() => parseRollout(JSON.stringify(doc), WHERE));
    expect(message.startsWith(`${WHERE}: ${key}: expected `)).toBe(true);
    expect(message).toContain(`got ${JSON.stringify(value) ?? 'undefined'}`);
  });

  it('says which indexes a step may have', () => {
    expect(rejection(() => parseRollout(JSON.stringify({ ...rolloutOf(), step: 4 }), WHERE))).toBe(`${WHERE}: step: expected an index into steps (0-3), got 4`);
  });
});

describe('rollout document: steps and max_failed', () => {
  it.each([[[1, 10, 50, 100]], [[100]], [[0.5, 100]], [[25, 50, 75, 100]]])('accepts the steps %j', (steps) => {
    expect(stepsProblem(steps)).toBeUndefined();
  });

  it.each([
    [[], 'expected at least one step'],
    [[0, 100], 'step 1 is 0: each step is a percent of the fleet, more than 0 and at most 100'],
    [[10, 0, 100], 'step 2 is 0: each step is a percent of the fleet, more than 0 and at most 100'],
    [[-5, 100], 'step 1 is -5: each step is a percent of the fleet, more than 0 and at most 100'],
    [[10, 101], 'step 2 is 101: each step is a percent of the fleet, more than 0 and at most 100'],
    [[10, Number.NaN, 100], 'step 2 is NaN: each step is a percent of the fleet, more than 0 and at most 100'],
    [[10, 10, 100], 'steps must increase: 10 then 10'],
    [[50, 10, 100], 'steps must increase: 50 then 10'],
    [[10, 100, 100], 'steps must increase: 100 then 100'],
    [[10, 50], 'the last step is 50, not 100: a rollout ends with the whole fleet'],
  ])('refuses the steps %j: %s', (steps, problem) => {
    expect(stepsProblem(steps)).toBe(problem);
  });

  it.each([
    ['3', { count: 3 }],
    ['0', { count: 0 }],
    [' 2 ', { count: 2 }],
    ['5%', { percent: 5 }],
    ['2.5%', { percent: 2.5 }],
    ['0%', { percent: 0 }],
    ['100%', { percent: 100 }],
  ])('reads max_failed %j as %j', (text, limit) => {
    expect(parseMaxFailed(text)).toEqual(limit);
  });

  it.each(['101%', '100.5%', 'x', '', '-1', '2.5', '5 %', '%', '3%%', '1e3'])('refuses max_failed %j', (text) => {
    expect(parseMaxFailed(text)).toBeUndefined();
  });

  it('treats running, paused and halted rollouts as open, completed and aborted ones as over', () => {
    expect((['running', 'paused', 'halted', 'completed', 'aborted'] as const).map(isOpen)).toEqual([true, true, true, false, false]);
  });
});

describe('rollout document: trust', () => {
  it('accepts a document signed by a trusted key', () => {
    const doc = rolloutOf();
    expect(trustRollout(offered(doc), [stranger.trusted, publisher.trusted], null)).toEqual(doc);
  });

  it('refuses a document changed after it was signed', () => {
    const signed = offered(rolloutOf());
    const bytes = Buffer.from(signed.bytes.toString('utf8').replace('"state": "running"', '"state": "aborted"'));
    expect(bytes.equals(signed.bytes)).toBe(false);
    expect(rejection(() => trustRollout({ ...signed, bytes }, [publisher.trusted], null))).toBe(
      `${WHERE}: the signature does not verify with any key in verify.public_keys (/etc/agent/release.pub): signed by an unknown key, truncated, or the document was changed after signing`,
    );
  });

  it('refuses a document with one byte flipped', () => {
    const signed = offered(rolloutOf());
    const bytes = Buffer.from(signed.bytes);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 1, bytes.length - 2);
    expect(rejection(() => trustRollout({ ...signed, bytes }, [publisher.trusted], null))).toContain('the signature does not verify');
  });

  it('refuses a document signed by a key that is not trusted', () => {
    expect(rejection(() => trustRollout(offered(rolloutOf(), stranger), [publisher.trusted], null))).toContain('the signature does not verify with any key in verify.public_keys (/etc/agent/release.pub)');
  });

  it('refuses a signature that is not one', () => {
    const signed = { ...offered(rolloutOf()), signature: 'not a signature\n' };
    expect(rejection(() => trustRollout(signed, [publisher.trusted], null))).toContain('the signature does not verify');
  });

  it('refuses an unsigned document when verify.public_keys is set', () => {
    expect(rejection(() => trustRollout(offered(rolloutOf(), null), [publisher.trusted], null))).toBe(
      `${WHERE} has no signature (rollout.sig) beside it, and verify.public_keys accepts only signed rollouts`,
    );
  });

  it('accepts an unsigned document when no keys are set', () => {
    const doc = rolloutOf();
    expect(trustRollout(offered(doc, null), [], null)).toEqual(doc);
  });

  it('still checks the shape of a document it does not verify', () => {
    const bytes = Buffer.from(JSON.stringify({ ...rolloutOf(), bake: 'soon' }));
    expect(rejection(() => trustRollout({ bytes, signature: null, where: WHERE }, [], null))).toContain(`${WHERE}: bake: expected a duration like 10m`);
  });

  it('refuses a serial lower than the one this host already followed, as a replay', () => {
    const message = rejection(() => trustRollout(offered(rolloutOf({ serial: 4 })), [publisher.trusted], 5));
    expect(message).toBe(`${WHERE}: rollout r-20261125-web has serial 4, lower than the 5 this host has already followed (a replayed older rollout document?)`);
  });

  it('accepts a serial equal to the one already followed: two ticks at once both write it', () => {
    expect(trustRollout(offered(rolloutOf({ serial: 5 })), [publisher.trusted], 5).serial).toBe(5);
  });

  it('accepts a higher serial', () => {
    expect(trustRollout(offered(rolloutOf({ serial: 6 })), [publisher.trusted], 5).serial).toBe(6);
  });
});

describe('failed releases', () => {
  const mark = (n: number, named_by = 'rollout r1'): FailedRelease => ({ release_id: n.toString(16).padStart(64, '0'), named_by, failed_at: new Date(NOW.getTime() + n * 1000).toISOString(), error: `exit 6 (${n})` });

  it('adds a mark last', () => {
    expect(withFailedRelease([mark(1), mark(2)], mark(3))).toEqual([mark(1), mark(2), mark(3)]);
  });

  it('replaces an older mark of the same release, whatever named it', () => {
    const again = { ...mark(1), named_by: 'rollout r2', failed_at: '2026-11-26T00:00:00.000Z' };
    expect(withFailedRelease([mark(1), mark(2)], again)).toEqual([mark(2), again]);
  });

  it('keeps the 20 newest marks', () => {
    let entries: FailedRelease[] = [];
    for (let n = 1; n <= 25; n++) entries = withFailedRelease(entries, mark(n));
    expect(entries).toHaveLength(20);
    expect(entries[0]).toEqual(mark(6));
    expect(entries.at(-1)).toEqual(mark(25));
  });

  it('does not change the list it is given', () => {
    const entries = [mark(1)];
    withFailedRelease(entries, mark(2));
    expect(entries).toEqual([mark(1)]);
  });
});

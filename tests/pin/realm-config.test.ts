// The pinned realm list (src/lib/config/realms.ts): a build-time constant, strictly parsed; which
// deployments may offer a short PIN, and the secret acceptance rule (secret-policy.ts, P38).
import { afterEach, describe, expect, test, vi } from 'vitest';
import { DEFAULT_REALM_CONFIG, parseRealmConfig, pinnedRealmEndpoints, realmIndependence } from '../../src/lib/config/realms';
import { RECOVERY_KEY_BITS, canonicalRecoverySecret, checkRecoverySecret, generateRecoveryKey, parseRecoveryKey } from '../../src/lib/crypto/pin/secret-policy';
import { seededDeps } from '../../src/lib/crypto/deps';
import { realmIdFromName } from '../../src/lib/crypto/pin/realm-auth';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('pinned realm configuration', () => {
  test('defaults to one realm named "parley" at the app origin under /realm/, threshold 1', () => {
    expect(DEFAULT_REALM_CONFIG).toEqual({ threshold: 1, realms: [{ name: 'parley', url: '/realm/' }] });
    expect(pinnedRealmEndpoints(DEFAULT_REALM_CONFIG)).toEqual([{ id: realmIdFromName('parley'), url: '/realm/' }]);
  });

  test('VITE_PARLEY_REALMS set at build time replaces the default', async () => {
    const json = '{"threshold":2,"realms":[{"name":"a","url":"https://a.example/realm/"},{"name":"b","url":"https://b.example/realm/"},{"name":"c","url":"/realm/"}]}';
    vi.stubEnv('VITE_PARLEY_REALMS', json);
    const mod = await import('../../src/lib/config/realms');
    expect(mod.PINNED_THRESHOLD).toBe(2);
    expect(mod.PINNED_REALMS.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  test.each([
    ['not JSON', '{'],
    ['no realms', '{"threshold":1,"realms":[]}'],
    ['threshold above n', '{"threshold":2,"realms":[{"name":"a","url":"/realm/"}]}'],
    ['threshold 0', '{"threshold":0,"realms":[{"name":"a","url":"/realm/"}]}'],
    ['relative url', '{"threshold":1,"realms":[{"name":"a","url":"realm/"}]}'],
    ['javascript: url', '{"threshold":1,"realms":[{"name":"a","url":"javascript:alert(1)"}]}'],
    ['duplicate names', '{"threshold":1,"realms":[{"name":"a","url":"/r/"},{"name":"a","url":"/s/"}]}']
  ])('a malformed configuration (%s) fails loudly', (_why, json) => {
    expect(() => parseRealmConfig(json)).toThrow(/VITE_PARLEY_REALMS/);
  });

  test('the parsed configuration is frozen', () => {
    const c = parseRealmConfig('{"threshold":1,"realms":[{"name":"a","url":"/realm/"}]}');
    expect(Object.isFrozen(c) && Object.isFrozen(c.realms) && Object.isFrozen(c.realms[0])).toBe(true);
  });
});

describe('P38 which deployments may offer a short PIN', () => {
  const APP = 'https://parley.example';
  const three = (urls: string[], threshold = 2) =>
    parseRealmConfig(JSON.stringify({ threshold, realms: urls.map((url, i) => ({ name: `r${i}`, url })) }));

  test('P38 the shipped default (one realm on the app origin) does not allow a short PIN', () => {
    expect(realmIndependence(DEFAULT_REALM_CONFIG, APP)).toEqual({ independent: false, reason: expect.stringMatching(/1-of-1/) });
  });

  test('P38 2-of-3 realms on three distinct origins, none the app’s, allow a short PIN', () => {
    expect(realmIndependence(three(['https://a.example/realm/', 'https://b.example/realm/', 'https://c.example/realm/']), APP)).toEqual({ independent: true });
  });

  test.each([
    ['1-of-3', three(['https://a.example/realm/', 'https://b.example/realm/', 'https://c.example/realm/'], 1), /1-of-3/],
    ['2-of-2', three(['https://a.example/realm/', 'https://b.example/realm/']), /2-of-2/],
    ['a realm on the app origin (relative URL)', three(['https://a.example/realm/', 'https://b.example/realm/', '/realm/']), /app’s own origin/],
    ['a realm on the app origin (absolute URL)', three(['https://a.example/realm/', 'https://b.example/realm/', 'https://parley.example/realm2/']), /app’s own origin/],
    ['two realms on one origin', three(['https://a.example/realm/', 'https://a.example/other/', 'https://c.example/realm/']), /share an origin/]
  ])('P38 %s does not allow a short PIN', (_why, config, reason) => {
    const r = realmIndependence(config, APP);
    expect(r.independent).toBe(false);
    if (!r.independent) expect(r.reason).toMatch(reason);
  });
});

describe('P38 the secret acceptance rule', () => {
  test('P38 without independent realms a short PIN is refused with the reason; a strong passphrase or a recovery key is accepted', () => {
    const strict = { independent: false };
    expect(checkRecoverySecret('4829', { ...strict, guessesLog10: 3.5 })).toEqual({ ok: false, reason: expect.stringMatching(/could try every short PIN offline/) });
    expect(checkRecoverySecret('glacier mango pepper', { ...strict, guessesLog10: 13 })).toMatchObject({ ok: false });
    expect(checkRecoverySecret('violet tractor umbrella quantum', { ...strict, guessesLog10: 20.9 })).toEqual({ ok: true, kind: 'passphrase' });
    const key = generateRecoveryKey(seededDeps('rk'));
    expect(checkRecoverySecret(key, { ...strict, guessesLog10: 0 })).toEqual({ ok: true, kind: 'recoveryKey' });
  });

  test('P38 with independent realms a short PIN that passes the pattern rules is accepted, a trivial one is not', () => {
    expect(checkRecoverySecret('4829', { independent: true, guessesLog10: 3.5 })).toEqual({ ok: true, kind: 'pin' });
    expect(checkRecoverySecret('1234', { independent: true, guessesLog10: 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/sequence/) });
  });

  test('P38 a recovery key is 140 random bits in 7 groups, and reads back however it is typed', () => {
    const key = generateRecoveryKey(seededDeps('rk2'));
    expect(key).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$/);
    expect(RECOVERY_KEY_BITS).toBeGreaterThanOrEqual(128);
    const sloppy = key.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(parseRecoveryKey(sloppy)).toBe(key);
    expect(canonicalRecoverySecret(`  ${sloppy} `)).toBe(key);
    expect(parseRecoveryKey(key.slice(0, -1))).toBeUndefined();
    expect(generateRecoveryKey(seededDeps('rk3'))).not.toBe(key);
  });
});

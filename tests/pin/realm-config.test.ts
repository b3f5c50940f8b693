// The pinned realm list (src/lib/config/realms.ts): a build-time constant, strictly parsed.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { DEFAULT_REALM_CONFIG, parseRealmConfig, pinnedRealmEndpoints } from '../../src/lib/config/realms';
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

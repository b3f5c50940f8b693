/**
 * P30, P38: the pinned realm origins go into the host's CSP connect-src, so the app can reach
 * realms on other origins and nothing else is opened. Real host, real HTTP, a built page on disk.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createHost, type RunningHost } from '../../src/host/server';
import { contentSecurityPolicy, realmConnectSources } from '../../src/host/static';
import { DEFAULT_REALM_CONFIG, parseRealmConfig } from '../../src/lib/config/realms';

const THREE = '{"threshold":2,"realms":[{"name":"a","url":"https://a.example/realm/"},{"name":"b","url":"https://b.example:8443/r/"},{"name":"c","url":"/realm/"}]}';
const connectSrc = (csp: string) => csp.split('; ').find((d) => d.startsWith('connect-src'))!;

let host: RunningHost | undefined;
const dirs: string[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await host?.close();
  host = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('P38 realm origins in the Content-Security-Policy', () => {
  test('P38 the default (one realm on the app origin) adds nothing beyond self', () => {
    expect(realmConnectSources(DEFAULT_REALM_CONFIG)).toEqual([]);
    expect(connectSrc(contentSecurityPolicy([], []))).toBe("connect-src 'self'");
  });

  test('P38 every realm on another origin is named, by origin only (no path), once', () => {
    expect(realmConnectSources(parseRealmConfig(THREE))).toEqual(['https://a.example', 'https://b.example:8443']);
  });

  test('P38 the running host serves the pages with the realm origins of VITE_PARLEY_REALMS in connect-src', async () => {
    vi.stubEnv('VITE_PARLEY_REALMS', THREE);
    const staticDir = mkdtempSync(join(tmpdir(), 'parley-csp-static-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-csp-data-'));
    dirs.push(staticDir, dataDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>x</title>');
    host = await createHost({ port: 0, dataDir, staticDir });
    const res = await fetch(host.url + '/');
    expect(res.status).toBe(200);
    const socket = host.url.replace(/^http/, 'ws');
    expect(connectSrc(res.headers.get('content-security-policy')!)).toBe(`connect-src 'self' ${socket} https://a.example https://b.example:8443`);
  });
});

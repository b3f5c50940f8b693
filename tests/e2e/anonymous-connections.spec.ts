/**
 * P41 and P49 as the host sees connections, in Chromium: the requests that by design name no
 * account (a lookup by hash, a sealed send, a file download by its id) reach the host with no
 * bearer AND on TCP connections that never carried a request with the account's bearer token.
 * Otherwise a host would pair a sealed sender's envelope, or a file's downloader, with the
 * account signed in on the same socket. The vault sends them with credentials 'omit', which
 * Chromium keeps in a connection pool of its own. Alice reaches the host through a proxy that
 * logs, per request, the connection and the bearer (support/host-proxy.ts).
 */
import { expect, test } from '@playwright/test';
import { HostProxy } from './support/host-proxy';
import { acceptedChat, bubbles, expectClean, openPerson, register, send, type Person } from './support/parley';

const people: Person[] = [];
let proxy: HostProxy | undefined;
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
  await proxy?.close();
  proxy = undefined;
});

/** What names no account by design: lookups, sealed sends, downloads by id, owner-written blobs. */
const ANONYMOUS = /^\/api\/v1\/(discovery\/|sealed\/messages\/|sealed\/multi$|blobs\/[0-9a-f]{32}$|groups\/blobs\/|profiles\/|username-links\/)/;

test('P41 P49 lookups, sealed sends and file downloads travel on connections the account never used', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  proxy = await HostProxy.start(baseURL!);
  const alice = await openPerson(browser, 'alice', undefined, 'light', proxy.url);
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);

  // Alice finds bob by name (a lookup), writes first; bob accepts and answers, so each holds the
  // other's profile key and what follows goes sealed (P41), receipts included.
  await acceptedChat(alice, bob);
  await send(alice, bob.name, 'this one is sealed');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('this one is sealed', { timeout: 30_000 });
  // Bob sends a file; alice saves it (ranged downloads by its id).
  const data = Buffer.from(Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + 7) & 0xff));
  await bob.page.getByTestId('attach-input').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: data });
  await bob.page.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).click();
  const file = bubbles(alice.page, bob.name).filter({ hasText: 'notes.bin' }).last();
  await expect(file).toBeVisible({ timeout: 30_000 });
  const [download] = await Promise.all([alice.page.waitForEvent('download'), file.getByRole('button', { name: 'Save' }).click()]);
  expect(await download.path()).toBeTruthy();

  const log = proxy.requests;
  const anonymous = log.filter((r) => ANONYMOUS.test(r.path) && !(r.path.startsWith('/api/v1/blobs/') && r.method !== 'GET'));
  const kinds = new Set(anonymous.map((r) => `${r.method} ${r.path.split('/').slice(0, 4).join('/')}`));
  for (const k of ['GET /api/v1/discovery', 'POST /api/v1/sealed', 'GET /api/v1/blobs']) expect([...kinds]).toContain(k);
  expect(anonymous.filter((r) => r.bearer)).toEqual([]);
  const accountConnections = new Set(log.filter((r) => r.bearer).map((r) => r.connection));
  expect(accountConnections.size).toBeGreaterThan(0);
  const shared = anonymous.filter((r) => accountConnections.has(r.connection));
  console.log(`alice: ${log.length} requests on ${new Set(log.map((r) => r.connection)).size} connections; ${anonymous.length} anonymous on ${new Set(anonymous.map((r) => r.connection)).size}, ${accountConnections.size} carried the bearer`);
  expect(shared).toEqual([]);
  await expectClean(alice);
  await expectClean(bob);
});

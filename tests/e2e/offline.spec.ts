/**
 * The installable, offline-capable PWA: once the service worker has precached the app shell,
 * a reload with no network still opens Parley with its history from IndexedDB, shows the offline
 * banner, queues what the user writes, and delivers it once the network is back.
 */
import { expect, test } from '@playwright/test';
import { bubbles, chatRow, openChat, openPerson, register, send, startChat, texts, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('offline reload opens the app with its history; a message written offline is delivered once back online', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'see you on the train');
  await expect(chatRow(bob.page, alice.name)).toContainText('see you on the train');

  // The service worker has installed (precache complete) once `ready` resolves with an active worker.
  const active = await bob.page.evaluate(async () => !!(await navigator.serviceWorker.ready).active);
  expect(active).toBe(true);

  await bob.context.setOffline(true);
  await bob.page.reload();
  await expect(bob.page.getByRole('status').filter({ hasText: "You're offline" })).toBeVisible({ timeout: 30_000 });
  await openChat(bob, alice.name);
  expect(await texts(bob.page, alice.name)).toEqual(['see you on the train']);

  await send(bob, alice.name, 'written in a tunnel');
  const mine = bubbles(bob.page, alice.name).last();
  await expect(mine).toContainText('written in a tunnel');
  await expect(mine.getByRole('img', { name: 'Sending' })).toBeVisible();

  await bob.context.setOffline(false);
  await expect(bubbles(alice.page, bob.name).last()).toContainText('written in a tunnel', { timeout: 60_000 });
  await expect(mine.getByRole('img', { name: /Delivered|Read/ })).toBeVisible({ timeout: 30_000 });
  await expect(bob.page.getByText("You're offline")).toHaveCount(0);

  // Offline and back produced no CSP violation (network errors while offline are expected).
  expect((await bob.guard.problems(bob.page)).filter((p) => p.includes('CSP') || p.includes('Content Security Policy'))).toEqual([]);
});

test('the web manifest is installable: name, standalone, theme colour, 192/512 and maskable icons', async ({ request }) => {
  const res = await request.get('/manifest.webmanifest');
  expect(res.ok()).toBe(true);
  const manifest = await res.json();
  expect(manifest).toMatchObject({ name: 'Parley', display: 'standalone', theme_color: '#1f6feb', start_url: '/' });
  const icons = manifest.icons as { src: string; sizes: string; purpose: string }[];
  for (const want of [
    { sizes: '192x192', purpose: 'any' },
    { sizes: '512x512', purpose: 'any' },
    { sizes: '512x512', purpose: 'maskable' }
  ]) {
    const icon = icons.find((i) => i.sizes === want.sizes && i.purpose === want.purpose);
    expect(icon, JSON.stringify(want)).toBeDefined();
    const png = await request.get(icon!.src);
    expect(png.headers()['content-type']).toBe('image/png');
    const bytes = await png.body();
    const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    expect(`${w}x${h}`).toBe(want.sizes);
  }
});

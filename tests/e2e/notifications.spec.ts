/**
 * Notifications and the unread count (README "Notifications"), in real Chromium against the real
 * host: once the user turns them on, a message arriving while Parley is hidden shows a
 * notification that names at most the sender — never the message text — or, in private mode,
 * no one; a visible Parley shows none; the tab title carries the unread total.
 * The page's visibility is driven by the test (headless pages are always "visible"), and
 * notifications are read back from the service worker registration that shows them
 * (`getNotifications`, only once the page's show resolved: support/notifications.ts says why);
 * clicks are notification-click.spec.ts'.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { countPageShows, notificationsAfter, notificationsNow, pageShows } from './support/notifications';
import { openChat, openPerson, register, send, startChat, type Person } from './support/parley';
import { TEST_LOCK_PASS } from '../support/app-lock-fixtures';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const shot = (name: string) => fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url));

/** Lets the test hide the page. */
function watchAttention(): void {
  const w = window as unknown as { __hidden: boolean };
  w.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (w.__hidden ? 'hidden' : 'visible') });
}

const hide = (page: Page, hidden: boolean) => page.evaluate((h) => ((window as unknown as { __hidden: boolean }).__hidden = h), hidden);

/** Alice (notifications allowed, visibility and shows watched) and Bob, registered; Alice on Settings, notifications on. */
async function notifiedPair(browser: Browser): Promise<{ alice: Person; bob: Person }> {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await alice.context.grantPermissions(['notifications']);
  await alice.context.addInitScript(watchAttention);
  await alice.context.addInitScript(countPageShows);
  await register(alice);
  await register(bob);
  await alice.page.goto('/settings');
  await alice.page.evaluate(() => navigator.serviceWorker.ready);
  await alice.page.getByRole('region', { name: 'Notifications' }).getByRole('button', { name: 'Turn on notifications' }).click();
  return { alice, bob };
}

test('a message while hidden notifies with the sender only (or no one in private mode); never its text; the title counts unread', async ({ browser }) => {
  const { alice, bob } = await notifiedPair(browser);
  const panel = alice.page.getByRole('region', { name: 'Notifications' });
  await expect(panel.getByRole('radio', { name: 'Who wrote (name only)' })).toBeChecked();
  await panel.scrollIntoViewIfNeeded();
  await alice.page.screenshot({ path: shot('settings-notifications') });

  // Hidden, default mode: the sender's name, not the text.
  await hide(alice.page, true);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'secret plans 42');
  expect(await notificationsAfter(alice.page, 1)).toEqual([{ title: bob.name, body: 'New message', tag: expect.stringMatching(/^parley-n:[0-9a-f]{32}$/), data: null }]);
  await expect(alice.page).toHaveTitle(/^\(1\) Settings · Parley$/);

  // Private mode: nothing that names anyone.
  await hide(alice.page, false);
  await panel.getByRole('radio', { name: 'Only "New message"' }).check();
  await hide(alice.page, true);
  await send(bob, alice.name, 'second secret 43');
  const both = await notificationsAfter(alice.page, 2);
  expect(both).toHaveLength(2);
  // (getNotifications does not keep the order they were shown in.)
  expect(both).toContainEqual({ title: 'Parley', body: 'New message', tag: 'parley', data: null });
  await expect(alice.page).toHaveTitle(/^\(2\) /);

  // Visible: no notification; reading the chat clears the count.
  await hide(alice.page, false);
  await send(bob, alice.name, 'while you look');
  await expect(alice.page).toHaveTitle(/^\(3\) /);
  await openChat(alice, bob.name);
  // P46: a chat's title names no one (the browser keeps titles with its history).
  await expect(alice.page).toHaveTitle('Chat · Parley');
  expect(await pageShows(alice.page)).toBe(2);
  const shown = await notificationsNow(alice.page);
  expect(shown).toHaveLength(2);
  expect(JSON.stringify(shown)).not.toMatch(/secret|while you look/);
  expect(shown.map((n) => n.tag).join(' ')).not.toContain(bob.name);
});

test('P46 locking takes Parley\'s notifications out of the system list and the unread count out of the title', async ({ browser }) => {
  test.setTimeout(180_000);
  const { alice, bob } = await notifiedPair(browser);
  await alice.page.getByRole('button', { name: 'Set up app lock' }).click();
  await alice.page.getByLabel('Passphrase', { exact: true }).fill(TEST_LOCK_PASS);
  await alice.page.getByLabel('The same passphrase again').fill(TEST_LOCK_PASS);
  await alice.page.getByRole('button', { name: 'Turn on app lock' }).click();
  await expect(alice.page.getByRole('status').filter({ hasText: 'The app lock is on' })).toBeVisible({ timeout: 90_000 });

  await hide(alice.page, true);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'are you at your desk?');
  // The checks below can fail: before the lock the system lists a notification naming bob, and the title counts it.
  expect((await notificationsAfter(alice.page, 1)).map((n) => n.title)).toEqual([bob.name]);
  await expect(alice.page).toHaveTitle(/^\(1\) /);
  await alice.page.getByRole('button', { name: 'Lock now' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  await expect.poll(() => notificationsNow(alice.page)).toEqual([]);
  await expect(alice.page).not.toHaveTitle(/^\(\d+\+?\) /);
});

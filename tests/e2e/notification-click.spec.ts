/**
 * Notifications shown by the service worker, and what a click on one opens (README
 * "Notifications"), in real Chromium against the real host and the real sealed service worker.
 *
 * Alice's browser behaves like Chrome on Android: `new Notification` throws (the init script
 * replaces the constructor with one that throws "Illegal constructor", keeping `permission` and
 * `requestPermission`), so only `ServiceWorkerRegistration.showNotification` can show anything.
 * The page's visibility is driven by the test (headless pages are always "visible").
 *
 * STAND-IN for the user's click: headless Chromium shows no notification to click and DevTools has
 * no command that clicks one, so the test dispatches a `notificationclick` event inside the service
 * worker (Playwright's service worker handle) carrying the real notification from
 * `registration.getNotifications()`; the worker's own handler does everything after that. A
 * script-made event refuses `waitUntil`, so the test supplies it (the browser's part: keep the
 * worker alive until the promise settles). Focusing the window cannot be observed headless.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createGroup, groupRow } from './support/groups';
import { countPageShows, notificationsAfter, notificationsNow, parleyWorker } from './support/notifications';
import { chatHref, conversationTitle, expectClean, openPerson, register, send, startChat, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Chrome on Android: the Notification constructor throws; the test can hide the page. */
function androidNotifications(): void {
  const w = window as unknown as { __hidden: boolean; Notification: typeof Notification };
  w.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (w.__hidden ? 'hidden' : 'visible') });
  const Real = w.Notification;
  const Throwing = function () {
    throw new TypeError("Failed to construct 'Notification': Illegal constructor. Use ServiceWorkerRegistration.showNotification() instead.");
  } as unknown as typeof Notification;
  Object.defineProperty(Throwing, 'permission', { get: () => Real.permission });
  Object.defineProperty(Throwing, 'requestPermission', { value: Real.requestPermission.bind(Real) });
  w.Notification = Throwing;
}

const hide = (page: Page, hidden: boolean) => page.evaluate((h) => ((window as unknown as { __hidden: boolean }).__hidden = h), hidden);


/** The stand-in for the user's click on the shown notification with `tag` (see the header). */
const click = async (context: BrowserContext, tag: string) =>
  (await parleyWorker(context)).evaluate(
    async (t: string) => {
      const scope = self as unknown as {
        registration: { getNotifications(o: { tag: string }): Promise<unknown[]> };
        dispatchEvent(e: Event): boolean;
        NotificationEvent: new (type: string, init: { notification: unknown }) => Event;
      };
      const [notification] = await scope.registration.getNotifications({ tag: t });
      if (!notification) throw new Error(`no notification with tag ${t}`);
      const event = new scope.NotificationEvent('notificationclick', { notification });
      const pending: Promise<unknown>[] = [];
      Object.defineProperty(event, 'waitUntil', { value: (p: Promise<unknown>) => void pending.push(p) });
      scope.dispatchEvent(event);
      await Promise.all(pending);
    },
    tag
  );

/** What a forger of the worker's message could send (P31): posted to every Parley window. */
const postFromWorker = async (context: BrowserContext, message: unknown) =>
  (await parleyWorker(context)).evaluate(
    async (m: unknown) => {
      const scope = self as unknown as { clients: { matchAll(o: object): Promise<{ postMessage(m: unknown): void }[]> } };
      for (const c of await scope.clients.matchAll({ type: 'window', includeUncontrolled: true })) c.postMessage(m);
    },
    message
  );

const say = async (p: Person, group: string, text: string) => {
  const box = p.page.getByLabel(`Message ${group}`);
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
};

test('P31 where only the service worker may notify, a click opens the 1:1 chat or the group it is about, private mode opens the chat list, and no tag or data names anyone', async ({ browser }) => {
  test.setTimeout(180_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await alice.context.grantPermissions(['notifications']);
  await alice.context.addInitScript(androidNotifications);
  await alice.context.addInitScript(countPageShows);
  await register(alice);
  await register(bob);
  await alice.page.evaluate(() => navigator.serviceWorker.ready);

  await alice.page.goto('/settings');
  const panel = alice.page.getByRole('region', { name: 'Notifications' });
  await panel.getByRole('button', { name: 'Turn on notifications' }).click();
  await expect(panel.getByRole('radio', { name: 'Who wrote (name only)' })).toBeChecked();

  // A 1:1 chat: shown by the service worker registration, named in the title only.
  await hide(alice.page, true);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'secret plans 42');
  const named = (title: string) => [{ title, body: 'New message', tag: expect.stringMatching(/^parley-n:[0-9a-f]{32}$/), data: null }];
  // Each full page load counts its shows from zero (support/notifications.ts).
  const first = await notificationsAfter(alice.page, 1, 30_000);
  expect(first).toEqual(named(bob.name));
  const [chat] = first;
  await click(alice.context, chat!.tag);
  await expect(alice.page).toHaveURL(new RegExp(`${await chatHref(alice.page, bob.name)}$`));
  await expect(conversationTitle(alice.page, bob.name)).toBeVisible();
  expect(await notificationsNow(alice.page)).toEqual([]);

  // A group: its own tag, and a click opens the group.
  await hide(alice.page, false);
  await alice.page.goto('/chats');
  const group = 'Night shift';
  await createGroup(alice, group, [bob]);
  await alice.page.goto('/settings');
  await hide(alice.page, true);
  await groupRow(bob.page, group).click();
  await say(bob, group, 'group secret 7');
  const second = await notificationsAfter(alice.page, 1, 30_000);
  expect(second).toEqual(named(group));
  const [inGroup] = second;
  expect(inGroup!.tag).not.toBe(chat!.tag);
  await click(alice.context, inGroup!.tag);
  await expect(alice.page).toHaveURL(/\/group\/[^/]+$/);
  await expect(alice.page.getByRole('heading', { name: group, level: 1 })).toBeVisible();
  const groupUrl = alice.page.url();

  // Private mode: one tag, no name anywhere, and a click opens the chat list.
  await hide(alice.page, false);
  await alice.page.goto('/settings');
  await panel.getByRole('radio', { name: 'Only "New message"' }).check();
  await hide(alice.page, true);
  await say(bob, group, 'third secret 9');
  expect(await notificationsAfter(alice.page, 1, 30_000)).toEqual([{ title: 'Parley', body: 'New message', tag: 'parley', data: null }]);
  await click(alice.context, 'parley');
  await expect(alice.page).toHaveURL(/\/chats$/);
  await expect(alice.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible();

  // Forged messages to the page: anything but { type, tag } with a Parley tag does nothing; a
  // well-formed tag no conversation hashes to opens the chat list at most.
  await alice.page.goto('/settings');
  // The app is up (its layout listens to the worker from the start).
  await expect(panel).toBeVisible();
  await postFromWorker(alice.context, { type: 'parley:notification-click', tag: `c:${bob.name}` });
  await postFromWorker(alice.context, { type: 'parley:notification-click', tag: 'parley', route: groupUrl });
  await postFromWorker(alice.context, { type: 'parley:notification-click', tag: '/chats' });
  await alice.page.waitForTimeout(1000);
  await expect(alice.page).toHaveURL(/\/settings$/);
  await postFromWorker(alice.context, { type: 'parley:notification-click', tag: `parley-n:${'f'.repeat(32)}` });
  await expect(alice.page).toHaveURL(/\/chats$/);
  await expectClean(alice);
});

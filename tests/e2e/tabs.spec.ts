/**
 * Two tabs of the same account (DESIGN.md §5 "only one tab drives"): both show what arrives,
 * either can send, and closing the driving tab hands over to the other without losing anything.
 * Without Web Locks neither tab drives (P18 fails closed) and both say so; a call signal forged
 * on the tabs' channel rings no tab (P31).
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { installGuard } from './support/guard';
import { buildA, buildWithoutLocksOnRequest, NO_LOCKS_WORKER, ownHost } from './support/builds';
import { openCaller, overlay, placeCall } from './support/calls';
import { bubbles, chatRow, expectClean, openChat, openPerson, register, send, startChat, texts, uniqueName, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('two tabs of one account stay in step, and the second takes over when the first closes', async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'to both of your tabs');

  const first = alice.page;
  const second = await alice.context.newPage();
  await second.goto('/chats');
  for (const page of [first, second]) await expect(chatRow(page, bob.name)).toContainText('to both of your tabs');

  // The second tab (a follower: the first holds the driver lock) sends; bob gets it.
  const tab2: Person = { ...alice, page: second };
  await openChat(tab2, bob.name);
  await send(tab2, bob.name, 'from the second tab');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('from the second tab');
  await expect(chatRow(first, bob.name)).toContainText('from the second tab');

  // Close the driving tab: the second takes over receiving.
  await first.close();
  await send(bob, alice.name, 'after the first tab closed');
  await expect(bubbles(second, bob.name).last()).toContainText('after the first tab closed', { timeout: 30_000 });
  expect(await texts(second, bob.name)).toEqual(['to both of your tabs', 'from the second tab', 'after the first tab closed']);
});

/** A page, and the vault worker it starts, without Web Locks (support/builds.ts). */
async function pageWithoutLocks(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((name) => {
    delete (Navigator.prototype as { locks?: unknown }).locks;
    const Native = window.Worker;
    window.Worker = class extends Native {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, { ...options, name });
      }
    };
  }, NO_LOCKS_WORKER);
  return page;
}

const readOnlyBanner = (page: Page) => page.getByRole('status').filter({ hasText: 'This browser lacks Web Locks' });

test('P18 without Web Locks no tab drives: each says read-only, nothing is received, and nothing is lost', async ({ browser }) => {
  test.setTimeout(120_000);
  const host = await ownHost();
  const contexts: BrowserContext[] = [];
  try {
    await host.serve((await buildWithoutLocksOnRequest(await buildA())).files);
    const open = async (name: string, locks: boolean): Promise<Person> => {
      const context = await browser.newContext({ baseURL: host.url, viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const page = locks ? await context.newPage() : await pageWithoutLocks(context);
      return { name: uniqueName(name), context, page, guard: await installGuard(page) };
    };
    const bob = await open('bob', true);
    await register(bob);
    const alice = await open('alice', false);
    await register(alice);
    const first = alice.page;
    expect(await first.evaluate(() => 'locks' in navigator)).toBe(false);
    expect(await Promise.all(first.workers().map((w) => w.evaluate(() => 'locks' in navigator)))).toEqual([false]);
    await expect(readOnlyBanner(first)).toBeVisible();
    await first.screenshot({ path: 'tests/e2e/screenshots/read-only-banner.png' });

    // Even alone the tab does not drive: it neither connects nor decrypts; the message waits on the host.
    await startChat(bob, alice.name);
    await send(bob, alice.name, 'while nobody drives');
    await first.waitForTimeout(3000);
    await expect(chatRow(first, bob.name)).toHaveCount(0);
    // A second tab: read-only too.
    const second = await pageWithoutLocks(alice.context);
    await second.goto('/chats');
    await expect(readOnlyBanner(second)).toBeVisible();
    await second.waitForTimeout(2000);
    for (const page of [first, second]) await expect(chatRow(page, bob.name)).toHaveCount(0);
    await expectClean(alice);

    // The same browser profile with Web Locks: one tab drives and gets the message, once.
    await first.close();
    await second.close();
    const later = await alice.context.newPage();
    await later.goto('/chats');
    await expect(readOnlyBanner(later)).toHaveCount(0);
    await openChat({ ...alice, page: later }, bob.name);
    expect(await texts(later, bob.name)).toEqual(['while nobody drives']);
  } finally {
    for (const c of contexts) await c.close();
    await host.close();
  }
});

test('P31 a call signal forged on the tabs\' channel rings no tab; a real call rings both', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await openCaller(browser, 'alice');
  const bob = await openCaller(browser, 'bob');
  people.push(alice, bob);
  await startChat(alice, bob.name);
  // P42: a stranger's calls never ring, so bob knows alice too.
  await startChat(bob, alice.name);
  const second = await bob.context.newPage();
  await second.goto('/chats');
  await expect(second.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible();

  // Any script of the origin can post on the account's channel: a well-formed, fresh offer from alice.
  await second.evaluate(
    ({ me, from }) => {
      const offer = new Uint8Array(2 + 16 + 16 + 32 + 1 + 8);
      offer.set([1, 1]);
      offer.set(crypto.getRandomValues(new Uint8Array(32)), 2);
      offer.set(crypto.getRandomValues(new Uint8Array(32)), 34);
      offer[66] = 1;
      new DataView(offer.buffer).setBigUint64(67, BigInt(Date.now()));
      const channel = new BroadcastChannel(`parley-tabs:${me}`);
      channel.postMessage({ kind: 'event', event: { type: 'call', username: from, signal: offer } });
      channel.close();
    },
    { me: bob.name, from: alice.name }
  );
  await second.waitForTimeout(2000);
  for (const page of [bob.page, second]) await expect(overlay(page)).toHaveCount(0);

  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await expect(overlay(second)).toContainText('Incoming voice call');
  await second.getByRole('button', { name: 'Decline' }).click();
  await expect(overlay(alice.page)).toContainText(`${bob.name} declined the call`);
});

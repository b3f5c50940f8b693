/**
 * A long conversation stays fast (DESIGN.md §8): it opens on its newest page with only a window
 * of rows in the DOM; scrolling up renders older rows and loads older pages from the vault while
 * the row being read stays where it was; the window never grows past a few screens. And the first
 * load stays small: PeerJS is fetched only once a call starts.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { installGuard } from './support/guard';
import { bubbles, chatRow, conversationTitle, expectClean, messageLog, openPerson, register, send, startChat, uniqueName, type Person } from './support/parley';
import { seedConversation } from './support/seed';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

/** Most rows the log keeps in the DOM (src/lib/ui/log-window.ts MAX_ROWS) plus one scroll step of slack. */
const MAX_IN_DOM = 160;
const SEEDED = 600;

async function seededPerson(browser: Browser): Promise<Person> {
  // The seed script is added inline: this browser alone bypasses the CSP for it.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
  const page = await context.newPage();
  return { name: uniqueName('alice'), context, page, guard: await installGuard(page) };
}

/** The first rendered row's id and its distance from the scroller's top, right after scrolling to 0. */
async function scrollToTop(page: Page, other: string): Promise<{ id: string; top: number }> {
  return messageLog(page, other)
    .locator('..')
    .evaluate((scroller) => {
      scroller.scrollTop = 0;
      scroller.dispatchEvent(new Event('scroll'));
      const row = scroller.querySelector<HTMLElement>('[data-row]')!;
      return { id: row.dataset.row!, top: row.getBoundingClientRect().top - scroller.getBoundingClientRect().top };
    });
}

async function rowTop(page: Page, other: string, id: string): Promise<number | undefined> {
  return messageLog(page, other)
    .locator('..')
    .evaluate((scroller, id) => {
      const row = [...scroller.querySelectorAll<HTMLElement>('[data-row]')].find((r) => r.dataset.row === id);
      return row && row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    }, id);
}

test('a 600-message conversation renders a window of rows; older ones appear on scroll up with the row in view held in place', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await seededPerson(browser);
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'hello');
  await seedConversation(alice.page, bob.name, SEEDED);

  await alice.page.goto('/chats');
  await chatRow(alice.page, bob.name).click();
  await expect(conversationTitle(alice.page, bob.name)).toBeVisible();
  const list = bubbles(alice.page, bob.name);
  await expect(list.last()).toHaveText(/hello/);
  const opened = await list.count();
  expect(opened).toBeGreaterThan(10);
  expect(opened).toBeLessThanOrEqual(60);
  await expect(list.filter({ hasText: `#${SEEDED - 1}:` })).toHaveCount(1);
  await expect(list.filter({ hasText: 'Me #0:' })).toHaveCount(0);

  // Scroll to the top again and again: older rows render, the row at the top stays put, the DOM stays bounded.
  let steps = 0;
  while ((await list.filter({ hasText: 'Me #0:' }).count()) === 0) {
    expect(++steps).toBeLessThan(60);
    const before = await scrollToTop(alice.page, bob.name);
    await expect.poll(() => firstRowId(alice.page, bob.name)).not.toBe(before.id);
    const top = await rowTop(alice.page, bob.name, before.id);
    expect(top).toBeDefined();
    expect(Math.abs(top! - before.top)).toBeLessThanOrEqual(2);
    expect(await list.count()).toBeLessThanOrEqual(MAX_IN_DOM);
  }
  // The oldest are shown, the newest long gone from the DOM.
  await expect(list.filter({ hasText: 'hello' })).toHaveCount(0);
  expect(await list.count()).toBeLessThanOrEqual(MAX_IN_DOM);
  await expectClean(bob);
});

async function firstRowId(page: Page, other: string): Promise<string | undefined> {
  return messageLog(page, other)
    .locator('[data-row]')
    .first()
    .getAttribute('data-row')
    .then((v) => v ?? undefined);
}

test('PeerJS is not fetched before a call starts, and is once one does', async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  const peerjsLoads: string[] = [];
  alice.page.on('response', async (r) => {
    if (!r.url().endsWith('.js')) return;
    const body = await r.text().catch(() => '');
    // PeerJS's own default cloud host appears in its code and nowhere in Parley's.
    if (body.includes('0.peerjs.com')) peerjsLoads.push(r.url());
  });
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'hi');
  await alice.page.reload();
  await expect(messageLog(alice.page, bob.name)).toBeVisible();
  // Not 'networkidle': the vault's profile refresh can keep one request open. The page has loaded
  // and rendered the chat (where the call button lives); give late chunk loads a moment to show.
  await alice.page.waitForLoadState('load');
  await alice.page.waitForTimeout(2000);
  expect(peerjsLoads).toEqual([]);

  await alice.page.getByRole('button', { name: `Voice call ${bob.name}` }).click();
  await expect.poll(() => peerjsLoads.length, { timeout: 15_000 }).toBeGreaterThan(0);
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
});

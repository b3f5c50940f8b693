/**
 * Disappearing messages end to end (SECURITY.md P44; README "Disappearing messages"): alice sets a
 * 5-minute timer from the contact screen, both headers show the badge and both conversations the
 * change; a message she then sends is gone from BOTH browsers' IndexedDB once its time is up —
 * the test reads every store of every database in each page and finds no row naming its id.
 *
 * Five real minutes are not waited for: each browser's vault worker has its clock (Date.now)
 * moved six minutes ahead, and reopening the conversation lets the worker see the timer is past
 * (expiry.ts sweepIfDue, the same path a throttled background tab takes). Screenshots of the
 * setting and the header go to tests/e2e/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { acceptedChat, bubbles, expectClean, registered, send, type Person } from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

interface RawRow {
  db: string;
  store: string;
  key: string;
  /** The row's clear fields as JSON (sealed bytes left out): what names it without opening it. */
  clear: string;
}

/** Every row of every store of every IndexedDB database of this page's origin, read in the page. */
function rawRows(page: Page): Promise<RawRow[]> {
  return page.evaluate(async () => {
    const ask = <T,>(r: IDBRequest<T>) => new Promise<T>((res, rej) => ((r.onsuccess = () => res(r.result)), (r.onerror = () => rej(r.error))));
    const out: { db: string; store: string; key: string; clear: string }[] = [];
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await ask(indexedDB.open(info.name));
      for (const store of Array.from(db.objectStoreNames)) {
        const s = db.transaction(store, 'readonly').objectStore(store);
        const [keys, values] = await Promise.all([ask(s.getAllKeys()), ask(s.getAll())]);
        keys.forEach((k, i) =>
          out.push({ db: info.name!, store, key: String(k), clear: JSON.stringify(values[i], (_k, v: unknown) => (v instanceof Uint8Array || v instanceof ArrayBuffer ? undefined : v)) })
        );
      }
      db.close();
    }
    return out;
  });
}

/** Moves the clock of every worker of the page (the vault) `ms` ahead; the page's own clock stays. */
async function moveWorkerClocks(page: Page, ms: number): Promise<void> {
  const workers = page.workers();
  expect(workers.length).toBeGreaterThan(0);
  for (const w of workers) {
    await w.evaluate((offset) => {
      const real = Date.now.bind(Date);
      Date.now = () => real() + offset;
    }, ms);
  }
}

const naming = (rows: RawRow[], id: string) => rows.filter((r) => r.key.includes(id) || r.clear.includes(id));

test('P44 a disappearing message is gone from both browsers\' IndexedDB when its time is up; the timer is shown in both headers', async ({ browser }) => {
  test.setTimeout(120_000);
  const [alice, bob] = (await registered(browser, people, 'alice', 'bob')) as [Person, Person];
  await acceptedChat(alice, bob, 'Hello Bob', 'Hi Alice');

  // The setting, in the contact screen's "This chat" section.
  await alice.page.getByRole('link', { name: `Safety number and settings for ${bob.name}`, exact: true }).click();
  const select = alice.page.getByLabel('Disappearing messages', { exact: true });
  await expect(select).toHaveValue('0');
  await select.selectOption({ label: '5 minutes' });
  await expect(select).toHaveValue('300');
  await alice.page.getByRole('region', { name: 'This chat' }).scrollIntoViewIfNeeded();
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/disappearing-setting.png' });
  await alice.page.getByRole('link', { name: 'Back to conversation' }).click();

  // Both headers show the badge; both conversations say who changed it.
  for (const p of [alice, bob]) {
    await expect(p.page.getByRole('img', { name: 'Disappearing messages: 5 minutes', exact: true })).toBeVisible();
  }
  await expect(alice.page.getByText('You set disappearing messages to 5 minutes.', { exact: true })).toBeVisible();
  await expect(bob.page.getByText(`${alice.name} set disappearing messages to 5 minutes.`, { exact: true })).toBeVisible();
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/disappearing-header.png' });
  // On a phone the header is narrow: the badge must still fit beside the name.
  await bob.page.setViewportSize({ width: 390, height: 844 });
  await expect(bob.page.getByRole('img', { name: 'Disappearing messages: 5 minutes', exact: true })).toBeInViewport();
  await bob.page.screenshot({ path: 'tests/e2e/screenshots/disappearing-header-phone.png' });
  await bob.page.setViewportSize({ width: 1280, height: 800 });

  // A message under the timer: note which rows it adds in each browser.
  const aliceBefore = new Set((await rawRows(alice.page)).map((r) => `${r.db}/${r.store}/${r.key}`));
  await send(alice, bob.name, 'This message will vanish');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('This message will vanish');
  const added = (await rawRows(alice.page)).filter((r) => r.store === 'messages' && !aliceBefore.has(`${r.db}/${r.store}/${r.key}`));
  expect(added).toHaveLength(1);
  const id = added[0]!.key;
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  // Bob has it (as `${alice}:${id}`) and has read it: its clock runs (a clear field, no body opened).
  await expect.poll(async () => naming(await rawRows(bob.page), id).filter((r) => r.store === 'messages' && JSON.parse(r.clear).expiresAt > 0).length).toBe(1);
  expect(naming(await rawRows(alice.page), id).length).toBeGreaterThan(0);

  // Six minutes later, by the vault workers' clocks; each side reopens the conversation.
  for (const p of [alice, bob]) await moveWorkerClocks(p.page, 6 * 60_000);
  for (const [p, other] of [[alice, bob], [bob, alice]] as const) {
    await p.page.getByRole('link', { name: `Safety number and settings for ${other.name}`, exact: true }).click();
    await p.page.getByRole('link', { name: 'Back to conversation' }).click();
    await expect(bubbles(p.page, other.name).filter({ hasText: 'This message will vanish' })).toHaveCount(0);
  }
  // No row anywhere in either browser names the message any more; earlier messages stay.
  for (const p of [alice, bob]) {
    await expect.poll(async () => naming(await rawRows(p.page), id)).toEqual([]);
  }
  await expect(bubbles(alice.page, bob.name).filter({ hasText: 'Hello Bob' })).toHaveCount(1);
  await expect(bubbles(bob.page, alice.name).filter({ hasText: 'Hi Alice' })).toHaveCount(1);
  await alice.page.screenshot({ path: 'tests/e2e/screenshots/disappearing-after.png' });
  for (const p of [alice, bob]) await expectClean(p);
});

/**
 * SECURITY.md P46 app lock in real Chromium against the real host: a lock set in Settings holds
 * the vault on reload (the lock screen, no wrapping key left in IndexedDB), a wrong passphrase is
 * refused with its reason, the right one brings the chats back and messaging works; Lock now
 * locks, and so does the idle time; a passkey (WebAuthn PRF, Chromium's virtual authenticator) unlocks; Sign out forgets the
 * account in this browser; Remove leaves no IndexedDB database, cache or account setting behind.
 */
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { pageHeapHolds, workerHeapHolds } from './support/heap';
import { callEntries, expectRising, expectVerified, openCaller, overlay, placeCall } from './support/calls';
import { bubbles, chatRow, expectClean, openChat, openPerson, register, send, startChat, texts, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
const PASS = 'velvet tundra quiz marmalade osprey 93';
/** The production Argon2id (8 passes, 64 MiB) on a shared 2-core machine. */
const ARGON = { timeout: 90_000 };

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close().catch(() => undefined);
});

async function settings(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'App lock' })).toBeVisible();
}

async function turnOnLock(page: Page): Promise<void> {
  await settings(page);
  await page.getByRole('button', { name: 'Set up app lock' }).click();
  await page.getByLabel('Passphrase', { exact: true }).fill('password123');
  await page.getByLabel('The same passphrase again').fill('password123');
  await page.getByRole('button', { name: 'Turn on app lock' }).click();
  await expect(page.getByRole('alert')).toContainText('Too easy to guess for a lock');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('The same passphrase again').fill(PASS);
  await page.getByLabel('Lock after no activity for').selectOption('5');
  await page.getByRole('button', { name: 'Turn on app lock' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The app lock is on' })).toBeVisible(ARGON);
}

/** The vault's meta rows as stored (raw IndexedDB, nothing decoded): which keys exist, which hold a CryptoKey. */
function storedMeta(page: Page): Promise<{ keys: string[]; cryptoKeys: string[] }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('parley');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const store = db.transaction('meta').objectStore('meta');
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => {
            const names = (keys.result as IDBValidKey[]).map(String);
            resolve({ keys: names, cryptoKeys: names.filter((_, i) => values.result[i] instanceof CryptoKey) });
            db.close();
          };
        };
      })
  );
}

/** After Remove: no database, no cache, no setting but the accepted build's hash. */
async function expectNothingLeft(page: Page): Promise<void> {
  const left = await page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
    local: Object.keys(localStorage)
  }));
  expect(left.databases).toEqual([]);
  expect(left.caches).toEqual([]);
  expect(left.local.filter((k) => k !== 'parley:accepted-build')).toEqual([]);
}

async function unlock(page: Page, passphrase: string): Promise<void> {
  await page.getByLabel('Passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
}

test('P46 app lock: reload shows the lock screen, a wrong passphrase is refused, unlocking brings the chats back and messaging works; Lock now locks', async ({ browser }) => {
  test.setTimeout(300_000);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'before the lock');
  await expect(chatRow(bob.page, alice.name)).toBeVisible();

  await turnOnLock(alice.page);
  await alice.page.screenshot({ path: `${DIR}app-lock-settings-desktop.png` });
  // At rest: no wrapping key is stored any more, nor any other CryptoKey.
  const meta = await storedMeta(alice.page);
  expect(meta.keys).toContain('appLock');
  expect(meta.keys).not.toContain('wrapKey');
  expect(meta.cryptoKeys).toEqual([]);

  await alice.page.reload();
  await expect(alice.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  await expect(alice.page.getByText(`@${alice.name}`)).toBeVisible();
  await unlock(alice.page, `${PASS}!`);
  await expect(alice.page.getByRole('alert')).toContainText('Wrong passphrase. Nothing was changed', ARGON);
  await alice.page.screenshot({ path: `${DIR}app-lock-wrong-desktop.png` });
  await unlock(alice.page, PASS);
  await expect(alice.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible(ARGON);
  await openChat(alice, bob.name);
  expect(await texts(alice.page, bob.name)).toEqual(['before the lock']);
  await send(alice, bob.name, 'after unlocking');
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name).filter({ hasText: 'after unlocking' })).toBeVisible();
  await send(bob, alice.name, 'reply after unlock');
  await expect(bubbles(alice.page, bob.name).filter({ hasText: 'reply after unlock' })).toBeVisible();

  // Lock now: the lock screen at once; the vault answers nothing else until unlocked.
  await settings(alice.page);
  // The checks below can fail: before the lock the page holds the last message (the chat list's
  // preview) in its DOM, and message texts in its JavaScript heap.
  expect(await alice.page.content()).toContain('reply after unlock');
  const written = ['before the lock', 'after unlocking', 'reply after unlock'];
  expect(await pageHeapHolds(alice.page, written)).toEqual(expect.arrayContaining(['before the lock', 'reply after unlock']));
  // The worker's heap is read too: it holds the contact's name (it never holds message texts).
  expect(await workerHeapHolds(browser, alice.page, 'vault.worker', [bob.name])).toEqual([bob.name]);
  expect(await pageHeapHolds(alice.page, [bob.name])).toEqual([bob.name]);
  await alice.page.getByRole('button', { name: 'Lock now' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  // The chat under it is gone from the page, not just covered: no message text, no contact list.
  const locked = await alice.page.content();
  expect(locked).not.toContain('reply after unlock');
  expect(locked).not.toContain('before the lock');
  // Nor in JavaScript memory: neither the page's heap nor the vault worker's holds a message text
  // after a full collection (V8 heap snapshots over CDP, support/heap.ts).
  expect(await pageHeapHolds(alice.page, written)).toEqual([]);
  // The page forgot whom it talks to as well (the chat list, the open chat's address is sealed).
  expect(await pageHeapHolds(alice.page, [bob.name])).toEqual([]);
  expect(await workerHeapHolds(browser, alice.page, 'vault.worker', written)).toEqual([]);
  await alice.page.screenshot({ path: `${DIR}app-lock-screen-desktop.png` });
  await send(bob, alice.name, 'while you were locked');
  await unlock(alice.page, PASS);
  await expect(alice.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible(ARGON);
  await openChat(alice, bob.name);
  await expect(bubbles(alice.page, bob.name).filter({ hasText: 'while you were locked' })).toBeVisible();
  await expectClean(alice);
  await expectClean(bob);
});

test('P46 app lock: a passkey with the PRF extension unlocks (Chromium virtual authenticator)', async ({ browser }) => {
  test.setTimeout(300_000);
  const carol = await openPerson(browser, 'carol');
  people.push(carol);
  const cdp = await carol.context.newCDPSession(carol.page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, hasPrf: true, automaticPresenceSimulation: true }
  });
  await register(carol);
  await turnOnLock(carol.page);
  await carol.page.getByRole('button', { name: 'Add a passkey' }).click();
  await carol.page.getByLabel('Your lock passphrase').fill(PASS);
  await carol.page.getByRole('button', { name: 'Create passkey' }).click();
  await expect(carol.page.getByRole('status').filter({ hasText: 'The passkey can now unlock Parley' })).toBeVisible(ARGON);
  await expect(carol.page.getByText('One passkey can unlock Parley.')).toBeVisible();

  await carol.page.reload();
  await expect(carol.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  await carol.page.getByRole('button', { name: 'Unlock with passkey' }).click();
  await expect(carol.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible(ARGON);

  // Auto-lock: one idle minute, with the page's clock moved on instead of waiting.
  await settings(carol.page);
  await carol.page.getByLabel('Lock after no activity for').selectOption('1');
  await expect(carol.page.getByRole('status').filter({ hasText: 'Parley locks after 1 minute without activity' })).toBeVisible();
  await carol.page.clock.install();
  await carol.page.clock.fastForward('00:50');
  await carol.page.waitForTimeout(11_000);
  await expect(carol.page.getByRole('heading', { name: 'App lock' })).toBeVisible();
  await carol.page.clock.fastForward('00:20');
  await expect(carol.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
});

test('P46 a call in progress holds off the idle lock; a lock from another tab ends the call on both sides', async ({ browser }) => {
  test.setTimeout(300_000);
  const alice = await openCaller(browser, 'alice');
  const bob = await openCaller(browser, 'bob');
  people.push(alice, bob);
  await startChat(alice, bob.name);
  await startChat(bob, alice.name);
  await turnOnLock(alice.page);
  await alice.page.getByLabel('Lock after no activity for').selectOption('1');
  await expect(alice.page.getByRole('status').filter({ hasText: 'Parley locks after 1 minute without activity' })).toBeVisible();
  await openChat(alice, bob.name);
  await placeCall(alice, bob.name, 'Voice');
  await expect(overlay(bob.page)).toContainText('Incoming voice call');
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await expectVerified(alice.page);
  await expectVerified(bob.page);

  // Three minutes on alice's clock with no key or pointer touched: the call counts as activity
  // (the check runs every 10 s of real time), so nothing locks and the audio keeps flowing.
  await alice.page.clock.install();
  await alice.page.clock.fastForward('03:00');
  await alice.page.waitForTimeout(11_000);
  await expect(alice.page.getByRole('heading', { name: 'Parley is locked' })).toHaveCount(0);
  await expect(overlay(alice.page)).toContainText('end-to-end verified');
  await expectRising(bob.page, (r) => r.inAudioPackets);

  // Lock now in a second tab of alice's locks this one too: its call ends with the lock, and
  // bob's side sees it end (the connection closes), not a call left running unseen.
  const tab = await alice.context.newPage();
  await tab.goto('/chats');
  await unlock(tab, PASS);
  await expect(tab.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible(ARGON);
  await settings(tab);
  await tab.getByRole('button', { name: 'Lock now' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  await expect(overlay(bob.page)).toContainText(/Call ended|Connection lost/, { timeout: 30_000 });
  const open = await alice.page.evaluate(() => (window.__pcs ?? []).filter((pc) => pc.connectionState !== 'closed').length);
  expect(open, 'connections left open in the locked tab').toBe(0);
  // The vault hung up through the ratchet and logged the call before its keys went (the page,
  // told of the lock after its vault, could no longer): after the unlock the call is in the chat.
  await unlock(alice.page, PASS);
  await expect(alice.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible(ARGON);
  await openChat(alice, bob.name);
  await expect(callEntries(alice.page, bob.name)).toHaveAttribute('data-outcome', 'completed');
  await expect(callEntries(bob.page, alice.name)).toHaveAttribute('data-outcome', 'completed');
});

test('P46 Sign out forgets the account in this browser; Remove leaves no database, cache or setting behind', async ({ browser }) => {
  test.setTimeout(300_000);
  const dave = await openPerson(browser, 'dave');
  people.push(dave);
  await register(dave);
  await settings(dave.page);
  await dave.page.getByRole('button', { name: 'Sign out' }).click();
  await expect(dave.page.getByRole('alert')).toContainText('Account recovery is off');
  await dave.page.screenshot({ path: `${DIR}sign-out-confirm-desktop.png` });
  await dave.page.getByRole('button', { name: 'Sign out' }).click();
  await expect(dave.page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
  const afterSignOut = await storedMeta(dave.page);
  expect(afterSignOut.keys).not.toContain('account');
  expect(afterSignOut.keys).not.toContain('identity');
  await dave.page.reload();
  await expect(dave.page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();

  // A second account in the same browser, with the lock on: removed from the lock screen (forgotten passphrase).
  const erin = { ...dave, name: `${dave.name}e` };
  await register(erin);
  await turnOnLock(erin.page);
  await erin.page.evaluate(() => localStorage.setItem('parley:relayCalls', '1'));
  await erin.page.reload();
  await expect(erin.page.getByRole('heading', { name: 'Parley is locked' })).toBeVisible();
  await erin.page.getByRole('button', { name: 'Forgot the passphrase?' }).click();
  await erin.page.getByRole('button', { name: 'Remove this account from this browser' }).click();
  await expect(erin.page.getByText('Parley was removed from this browser')).toBeVisible();
  await erin.page.screenshot({ path: `${DIR}removed-desktop.png` });
  await expectNothingLeft(erin.page);

  // A third, removed from Settings.
  await erin.page.reload();
  const frank = { ...dave, name: `${dave.name}f` };
  await register(frank);
  await settings(frank.page);
  await frank.page.getByRole('button', { name: 'Remove this account from this browser' }).click();
  await frank.page.getByRole('button', { name: 'Remove from this browser' }).click();
  await expect(frank.page.getByText('Parley was removed from this browser')).toBeVisible();
  await expectNothingLeft(frank.page);
});

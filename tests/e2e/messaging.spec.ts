/**
 * Messaging end to end (DESIGN.md §4): people who only know each other's usernames register, find each other and
 * talk — both ways, with the other side offline, across reloads — with correct receipts and
 * unread counts, against the real host and the real vault worker, in separate browser contexts.
 */
import { expect, test } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { checkLookupWork } from '../../src/lib/crypto/lookup-work';
import { initSodium } from '../../src/lib/crypto/sodium';
import { parseLookupHash, parseWorkProof } from '../../src/lib/wire/discovery-api';
import {
  bubbles,
  chatRow,
  expectClean,
  messageLog,
  openChat,
  openPerson,
  register,
  send,
  startChat,
  texts,
  type Person
} from './support/parley';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('alice and bob register, find each other and talk both ways', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);

  await startChat(alice, bob.name);
  await send(alice, bob.name, 'Hi Bob! 👋');
  await expect(chatRow(bob.page, alice.name)).toContainText('Hi Bob! 👋');
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name)).toHaveText([/Hi Bob! 👋/]);

  await send(bob, alice.name, 'Hello Alice — good to hear from you.');
  await expect(bubbles(alice.page, bob.name).last()).toContainText('Hello Alice — good to hear from you.');
  await send(alice, bob.name, 'Line one\nline two');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('Line one\nline two');

  expect(await texts(alice.page, bob.name)).toEqual(['Hi Bob! 👋', 'Hello Alice — good to hear from you.', 'Line one\nline two']);
  expect(await texts(bob.page, alice.name)).toEqual(await texts(alice.page, bob.name));
  await expectClean(alice);
  await expectClean(bob);
});

test('receipts go sent -> delivered -> read and unread counts follow', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  // P42: receipts go only to people bob knows (a stranger's messages are a silent request).
  await startChat(bob, alice.name);
  await bob.page.goto('/chats');
  await expect(bob.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible();

  for (const text of ['one', 'two', 'three']) await send(alice, bob.name, text);
  const mine = bubbles(alice.page, bob.name);
  await expect(mine).toHaveCount(3);
  // Bob's app is open on the chat list: his device decrypts (delivered) but nobody has read them.
  await expect(mine.getByRole('img', { name: 'Delivered' })).toHaveCount(3);
  await expect(chatRow(bob.page, alice.name)).toContainText('3 unread');

  await openChat(bob, alice.name);
  await expect(mine.getByRole('img', { name: 'Read' })).toHaveCount(3);
  await expect(chatRow(bob.page, alice.name)).not.toContainText('unread');

  // While bob has the chat open, a new message is read at once.
  await send(alice, bob.name, 'four');
  await expect(bubbles(bob.page, alice.name).last()).toContainText('four');
  await expect(mine.last().getByRole('img', { name: 'Read' })).toBeVisible();
  await expect(chatRow(bob.page, alice.name)).not.toContainText('unread');
  await expectClean(alice);
  await expectClean(bob);
});

test('Enter never waits for the previous send: texts typed quickly all go, in the order typed', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  const box = alice.page.getByRole('textbox', { name: `Message ${bob.name}` });
  await expect(box).toBeVisible();
  const quick = ['first', 'second', 'third', 'fourth'];
  // A fast typist: four texts and four Enters land before the vault has answered the first send.
  await alice.page.evaluate((all) => {
    const field = document.getElementById('composer-text') as HTMLTextAreaElement;
    for (const text of all) {
      field.value = text;
      field.dispatchEvent(new Event('input', { bubbles: true }));
      field.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    }
  }, quick);
  await expect(box).toHaveValue('');
  await expect(bubbles(alice.page, bob.name)).toHaveCount(4);
  expect(await texts(alice.page, bob.name)).toEqual(quick);
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name)).toHaveCount(4);
  expect(await texts(bob.page, alice.name)).toEqual(quick);
});

test('bob offline then back receives everything in order, and reload keeps history', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'before');
  await expect(chatRow(bob.page, alice.name)).toContainText('before');

  // Bob closes Parley; alice keeps writing.
  await bob.page.close();
  const sent = Array.from({ length: 6 }, (_, i) => `while you were away ${i + 1}`);
  for (const text of sent) await send(alice, bob.name, text);
  // Seven: 'before' too, since bob has not accepted alice's request (P42: no receipts).
  await expect(bubbles(alice.page, bob.name).getByRole('img', { name: 'Sent' })).toHaveCount(7);

  bob.page = await bob.context.newPage();
  await bob.page.goto('/');
  await expect(chatRow(bob.page, alice.name)).toContainText('7 unread');
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name)).toHaveCount(7);
  expect(await texts(bob.page, alice.name)).toEqual(['before', ...sent]);

  await bob.page.reload();
  await expect(messageLog(bob.page, alice.name)).toBeVisible();
  expect(await texts(bob.page, alice.name)).toEqual(['before', ...sent]);
  // P42: alice is a stranger's request to bob; his receipts go once he accepts.
  await bob.page.getByRole('button', { name: 'Accept' }).click();
  await alice.page.reload();
  await expect(bubbles(alice.page, bob.name)).toHaveCount(7);
  await expect(bubbles(alice.page, bob.name).getByRole('img', { name: 'Read' })).toHaveCount(7);
});

test('"New chat" with an unknown username says so clearly; the lookup names neither the asker nor the name (P49); a rate limit says to wait', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice', { width: 390, height: 844 });
  people.push(alice);
  await register(alice);
  const seen: { url: string; authorization: string | undefined }[] = [];
  alice.context.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) seen.push({ url: r.url(), authorization: r.headers().authorization });
  });
  await alice.page.getByRole('link', { name: 'New chat', exact: true }).click();
  await alice.page.getByLabel('Their username').fill('nobody_here_ever_42');
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice.page.getByRole('alert')).toHaveText(/No user named “nobody_here_ever_42”/);
  // The name was wrong: the field says so. (For a busy server or a rate limit it does not, below.)
  await expect(alice.page.getByLabel('Their username')).toHaveAttribute('aria-invalid', 'true');
  // The vault worker asked once, by hash, with no credential, and fetched no bundle. (Other
  // background calls of a signed-in tab, such as prekey refills, may come and go meanwhile.)
  const asked = seen.filter((r) => /^\/api\/v1\/(discovery|bundles)\//.test(new URL(r.url).pathname));
  expect(asked.map((r) => new URL(r.url).pathname.replace(/[^/]+$/, '<hash>'))).toEqual(['/api/v1/discovery/<hash>']);
  expect(asked[0]!.url).not.toContain('nobody');
  expect(asked[0]!.authorization).toBeUndefined();
  await expectClean(alice);

  // The host's per-address limit (P40) is explained as such, not as "not reachable".
  await alice.context.route('**/api/v1/discovery/**', (route) =>
    route.fulfill({ status: 429, contentType: 'application/json', headers: { 'retry-after': '60' }, body: JSON.stringify({ error: 'RateLimited', message: 'too many lookups from this address' }) })
  );
  await alice.page.getByLabel('Their username').fill('somebody_else');
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice.page.getByRole('alert')).toHaveText('Too many lookups from this network just now. Wait a minute, then try again.');
  await expect(alice.page.getByLabel('Their username')).not.toHaveAttribute('aria-invalid', 'true');
  await alice.page.screenshot({ path: fileURLToPath(new URL('./screenshots/new-chat-rate-limited-phone.png', import.meta.url)) });
  // "Try again shortly" (503: the lookup index still filling after an upgrade) is a busy server,
  // not being offline.
  await alice.context.unroute('**/api/v1/discovery/**');
  await alice.context.route('**/api/v1/discovery/**', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '2' }, body: JSON.stringify({ error: { code: 'Unavailable', message: 'the lookup index is being rebuilt; try again shortly' } }) })
  );
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await expect(alice.page.getByRole('alert')).toHaveText('The Parley server is busy right now (it may be finishing an update). Try again in a minute.');
  await expect(alice.page.getByLabel('Their username')).not.toHaveAttribute('aria-invalid', 'true');
  await alice.page.screenshot({ path: fileURLToPath(new URL('./screenshots/new-chat-host-busy-phone.png', import.meta.url)) });
  await expectClean(alice);
});

test('P40 behind a busy shared address: a lookup refused with a work challenge is solved in the vault worker and the chat opens', async ({ browser }) => {
  await initSodium();
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  await register(alice);
  await register(bob);
  // The host's limit for alice's address is used up (by her neighbours): the first lookup is
  // refused with the host's default challenge; the retry must bring a proof for that name and minute.
  const BITS = 20;
  const SLOT = Math.floor(Date.now() / 60_000);
  const asked: { at: number; work: string | undefined }[] = [];
  let proofHeld = false;
  await alice.context.route('**/api/v1/discovery/**', async (route) => {
    const work = route.request().headers()['x-parley-work'];
    asked.push({ at: Date.now(), work });
    if (!work) {
      return route.fulfill({ status: 429, contentType: 'application/json', headers: { 'retry-after': '60', 'x-parley-work-challenge': `${BITS} ${SLOT}` }, body: JSON.stringify({ error: { code: 'RateLimited', message: 'too many lookups from this address' } }) });
    }
    const hash = parseLookupHash(new URL(route.request().url()).pathname.split('/').pop()!);
    const proof = parseWorkProof(work);
    proofHeld = proof.slot === SLOT && checkLookupWork(hash, proof.slot, proof.nonce, BITS);
    return route.continue();
  });
  await startChat(alice, bob.name);
  expect(asked.map((a) => a.work !== undefined)).toEqual([false, true]);
  expect(proofHeld).toBe(true);
  console.log(`lookup proof of work (${BITS} bits) in the vault worker: ${asked[1]!.at - asked[0]!.at} ms from refusal to retry`);
  await send(alice, bob.name, 'found you');
  await expect(chatRow(bob.page, alice.name)).toContainText('found you');
  await expectClean(alice);
});

/**
 * SECURITY.md P46 beyond the vault: what the browser itself keeps of Parley in its profile. Every
 * visited URL goes with the page's title into the profile's History database, its session files
 * and, with browser sync on, to the browser vendor; the history page and the address bar's
 * suggestions show them to whoever sits at the computer while Parley is locked. So chat addresses
 * hold the person only sealed under a vault key (`/chat/<route>`, src/lib/crypto/route-name.ts),
 * and titles name no person and no group. Checked on a real persistent Chromium profile after a
 * chat, its contact screen, a group and its info screen were visited.
 */
import { chromium, expect, test } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGroup } from './support/groups';
import { installGuard } from './support/guard';
import { acceptedChat, chatHref, expectClean, openPerson, register, uniqueName, type Person } from './support/parley';

const people: Person[] = [];
const dirs: string[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Files under `dir` whose bytes hold `text` in UTF-8 or UTF-16LE (how Chromium stores titles). */
function holding(dir: string, text: string): string[] {
  const needles = [Buffer.from(text, 'utf8'), Buffer.from(text, 'utf16le')];
  return files(dir).filter((f) => {
    const bytes = readFileSync(f);
    return needles.some((n) => bytes.includes(n));
  });
}

test('P46 the browser profile\'s history, titles and session files name no contact and no group', async ({ browser, baseURL }, info) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'parley-profile-'));
  dirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, { ...info.project.use.launchOptions, baseURL, viewport: { width: 1280, height: 800 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const alice: Person = { name: uniqueName('alice'), context, page, guard: await installGuard(page) };
  people.push(alice);
  const bob = await openPerson(browser, 'bob');
  people.push(bob);
  await register(alice);
  await register(bob);
  await acceptedChat(bob, alice, 'are you there?', 'here');

  // Alice visits the chat, its contact screen, a group and the group's info screen.
  const chat = await chatHref(alice.page, bob.name);
  expect(chat).not.toContain(bob.name);
  await alice.page.goto(chat);
  await expect(alice.page).toHaveTitle('Chat · Parley');
  await alice.page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
  await expect(alice.page).toHaveURL(`${chat}/contact`);
  await expect(alice.page).toHaveTitle('Safety number · Parley');
  const group = `Orchid society ${uniqueName('g')}`;
  await createGroup(alice, group, [bob]);
  await expect(alice.page).toHaveTitle('Group · Parley');
  await alice.page.getByRole('link', { name: 'Group info' }).click();
  await expect(alice.page.getByRole('link', { name: `Verify ${bob.name}` })).toHaveAttribute('href', `${chat}/contact`);
  // An address from another vault (bob's for his chat with alice) names no one here.
  const foreign = await chatHref(bob.page, alice.name);
  await alice.page.goto(foreign);
  await expect(alice.page.getByRole('heading', { name: 'Chat not found', level: 1 })).toBeVisible();
  await expect(alice.page.getByRole('alert')).toHaveText(/This chat is not on this device/);
  await expectClean(alice);
  await context.close();

  const history = new Database(join(dir, 'Default', 'History'), { readonly: true, fileMustExist: true });
  const rows = history.prepare('SELECT url, title FROM urls').all() as { url: string; title: string }[];
  history.close();
  // The checks below can fail: the history did record the chat and group visits, with titles.
  expect(rows.map((r) => new URL(r.url).pathname)).toEqual(expect.arrayContaining([chat, `${chat}/contact`, expect.stringMatching(/^\/group\/[^/]+\/info$/)]));
  expect(rows.map((r) => r.title)).toEqual(expect.arrayContaining(['Chat · Parley', 'Safety number · Parley']));
  for (const r of rows) {
    expect(`${r.url} ${r.title}`).not.toContain(bob.name);
    expect(`${r.url} ${r.title}`).not.toContain(group);
  }
  // The session files (what "reopen closed tabs" restores) hold the same addresses and titles.
  const sessions = join(dir, 'Default', 'Sessions');
  expect(holding(sessions, chat).length, 'the session files hold the chat address').toBeGreaterThan(0);
  expect(holding(sessions, bob.name)).toEqual([]);
  expect(holding(sessions, group)).toEqual([]);
  // The group's name is in no file of the profile at all (IndexedDB holds it sealed, P32).
  expect(holding(dir, group)).toEqual([]);
});

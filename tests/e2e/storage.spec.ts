/**
 * Settings -> Storage (README "Attachments": Manage storage) in the browser: bob saves two files
 * alice sent, which his vault keeps and releases, so the host drops both. Storage lists the chat
 * with its two files and their size; removing them (after a confirmation that says what is lost)
 * leaves no file kept, the messages stay, and saving one again says it was removed here and the
 * server no longer has it, with no bytes shown. Real host, real build, real vault workers.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { acceptedChat, bubbles, expectClean, openChat, registered, type Person } from './support/parley';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const randomBytes = (n: number, seed: number): Buffer => Buffer.from(Uint8Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0xff));

async function saved(page: Page, button: Locator): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return readFileSync((await download.path())!);
}

test('bob frees the space of a chat\'s files: Storage lists them, removal keeps the messages, and a removed file says so', async ({ browser }) => {
  const [alice, bob] = (await registered(browser, people, 'alice', 'bob')) as [Person, Person];
  // Bob accepts alice's first message, so her files are not a stranger's (P42).
  await acceptedChat(alice, bob, 'Two files for you', 'Send them');

  const files = [
    { name: 'notes.txt', buffer: randomBytes(200_000, 3) },
    { name: 'budget.pdf', buffer: randomBytes(900_000, 5) }
  ];
  const releases: string[] = [];
  bob.context.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/release')) releases.push(r.url());
  });
  for (const f of files) {
    await alice.page.getByTestId('attach-input').setInputFiles({ ...f, mimeType: 'application/octet-stream' });
    await alice.page.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).click();
    await expect(alice.page.getByTestId('attach-panel')).toHaveCount(0, { timeout: 30_000 });
    const bubble = bubbles(bob.page, alice.name).filter({ hasText: f.name }).last();
    await expect(bubble).toBeVisible({ timeout: 30_000 });
    expect((await saved(bob.page, bubble.getByRole('button', { name: 'Save' }))).equals(f.buffer)).toBe(true);
  }
  // Both copies are kept and released: the host no longer holds either blob.
  await expect.poll(() => releases.length).toBe(2);

  await bob.page.goto('/settings');
  const panel = bob.page.getByTestId('storage-settings');
  await expect(panel.getByText(/^Files kept in this browser: 2 files, 1\.\d MB\./)).toBeVisible({ timeout: 30_000 });
  const row = panel.getByRole('listitem').filter({ hasText: `@${alice.name}` });
  await expect(row).toContainText('2 files · 1.');
  // Whether the browser keeps Parley's data is shown as the browser itself reports it.
  const kept = await bob.page.evaluate(() => navigator.storage.persisted());
  await expect(panel.getByTestId('storage-persisted')).toHaveText(kept ? "This browser keeps Parley's data until you remove it." : /^This browser may clear Parley's data when space runs low/);
  if (!kept) {
    await panel.getByRole('button', { name: 'Ask the browser to keep it' }).click();
    const now = await bob.page.evaluate(() => navigator.storage.persisted());
    if (now) await expect(panel.getByTestId('storage-persisted')).toHaveText("This browser keeps Parley's data until you remove it.");
    else await expect(panel.getByText(/^The browser did not agree\./)).toBeVisible();
  }
  await panel.scrollIntoViewIfNeeded();
  await bob.page.screenshot({ path: `${SHOTS}/storage-settings-desktop.png` });
  await row.getByRole('button', { name: 'Remove files' }).click();
  await expect(row).toContainText('The messages stay. A file the server no longer has cannot be opened here again.');
  await bob.page.screenshot({ path: `${SHOTS}/storage-confirm-desktop.png` });
  // "Keep them" changes nothing.
  await row.getByRole('button', { name: 'Keep them' }).click();
  await expect(row.getByRole('button', { name: 'Remove files' })).toBeVisible();
  await row.getByRole('button', { name: 'Remove files' }).click();
  await row.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(panel.getByRole('status').filter({ hasText: /^Removed/ })).toHaveText(new RegExp(`^Removed 2 files of @${alice.name} \\(1\\.\\d MB\\)\\.$`));
  await expect(panel.getByText('No files are kept in this browser.')).toBeVisible();
  await expect(panel.getByRole('listitem')).toHaveCount(0);
  await bob.page.setViewportSize({ width: 390, height: 844 });
  await panel.scrollIntoViewIfNeeded();
  await bob.page.screenshot({ path: `${SHOTS}/storage-removed-phone.png` });
  await bob.page.setViewportSize({ width: 1280, height: 800 });

  // The messages stay; the file is gone from here and from the host, and saving it says so.
  await bob.page.goto('/chats');
  await openChat(bob, alice.name);
  const bubble = bubbles(bob.page, alice.name).filter({ hasText: 'notes.txt' }).last();
  // Its bubble says the file is not here any more before anyone clicks.
  await expect(bubble.getByTestId('file-not-here')).toHaveText('· Not downloaded');
  await bubble.getByRole('button', { name: 'Save' }).click();
  await expect(bubble.getByTestId('attachment-error')).toHaveText('You removed this file from this browser to free space, and the server no longer has it.');
  // Trying again cannot help, so no Retry is offered.
  await expect(bubble.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(bubbles(bob.page, alice.name).filter({ hasText: 'budget.pdf' })).toBeVisible();
  await bob.page.screenshot({ path: `${SHOTS}/storage-removed-file-desktop.png` });
  for (const p of people) await expectClean(p);
});

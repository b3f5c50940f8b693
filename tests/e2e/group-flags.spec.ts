/**
 * Filing a group (README "Chat list") in real Chromium against the real host, two people in
 * separate browser contexts: on the group info screen (the contact screen's buttons) Ann pins the
 * group, which goes to the top above a newer chat, archives it under "Archived (1)", a new group
 * message brings it back, and muted and archived it stays there. All local: no request and no
 * socket frame leaves Ann's browser while she files it, and Ben's row shows nothing of it.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { openPerson, register, send, startChat, type Person } from './support/parley';
import { acceptGroupRequest, createGroup, groupRow } from './support/groups';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

const shot = (name: string) => fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url));
const rowNames = (page: Page) =>
  page
    .getByRole('list', { name: 'Conversations' })
    .getByRole('link')
    .evaluateAll((as) => as.map((a) => a.getAttribute('data-group') ?? a.getAttribute('data-chat')));
const archivedList = (page: Page) => page.getByRole('list', { name: 'Archived chats' });

/** axe on what `page` shows now: no serious or critical WCAG 2.1 AA violation. */
async function audit(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const severe = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`), screen).toEqual([]);
}

/** Everything `p`'s browser sends to the host from now on: HTTP requests (the vault worker's too) and WebSocket frames. */
function traffic(p: Person): string[] {
  const seen: string[] = [];
  p.context.on('request', (r) => void seen.push(`${r.method()} ${new URL(r.url()).pathname}`));
  p.page.on('websocket', (ws) => ws.on('framesent', () => void seen.push('ws frame')));
  return seen;
}

/** Waits until `seen` stops growing for 1.5 s (the page's reconnect, receipts and uploads are done). */
async function quiet(seen: string[]): Promise<void> {
  for (let n = -1; n !== seen.length; ) {
    n = seen.length;
    await new Promise((r) => setTimeout(r, 1500));
  }
}

/**
 * On the group info screen, once the page is quiet, presses `button` and waits until it turned
 * into its opposite; answers what the browser sent meanwhile (and for a second after).
 */
async function file(p: Person, seen: string[], groupHref: string, button: string): Promise<string[]> {
  await p.page.goto(`${groupHref}/info`);
  const section = p.page.getByRole('region', { name: 'This group' });
  await expect(section.getByRole('button', { name: button, exact: true })).toBeEnabled();
  await quiet(seen);
  const from = seen.length;
  await section.getByRole('button', { name: button, exact: true }).click();
  await expect(section.getByRole('button', { name: button, exact: true })).toHaveCount(0);
  await new Promise((r) => setTimeout(r, 1000));
  return seen.slice(from);
}

/** `p` opens group `name` from the chat list and sends `text`; answers what the browser sent until the box cleared and a second after. */
async function sendToGroup(p: Person, name: string, text: string, seen: string[] = []): Promise<string[]> {
  await p.page.goto('/chats');
  await groupRow(p.page, name).click();
  // The group composer is a combobox (the "@" member picker), found by its label.
  const box = p.page.getByLabel(`Message ${name}`);
  await box.fill(text);
  await quiet(seen);
  const from = seen.length;
  await box.press('Enter');
  await expect(box).toHaveValue('');
  await new Promise((r) => setTimeout(r, 1000));
  const sent = seen.slice(from);
  await p.page.goto('/chats');
  return sent;
}

test('a group is pinned on top, archived until a new message, and stays archived muted; nothing leaves the browser', async ({ browser }) => {
  test.setTimeout(180_000);
  const [ann, ben] = [await openPerson(browser, 'ann'), await openPerson(browser, 'ben')];
  people.push(ann, ben);
  for (const p of people) await register(p);
  const name = 'Summit';
  await createGroup(ann, name, [ben]);
  // Ann is a stranger to Ben: he accepts the group request (P42) before he can write in it.
  await acceptGroupRequest(ben, name, ann);
  await ann.page.goto('/chats');
  const href = (await groupRow(ann.page, name).getAttribute('href'))!;
  // A chat newer than the group: unpinned, the group is second.
  await startChat(ann, ben.name);
  await send(ann, ben.name, 'hi ben');
  await ann.page.goto('/chats');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name, name]);

  const seen = traffic(ann);
  expect(await file(ann, seen, href, 'Pin group'), 'pinning sends nothing').toEqual([]);
  await expect(ann.page.getByRole('region', { name: 'This group' }).getByRole('button', { name: 'Unpin group' })).toHaveAttribute('aria-pressed', 'true');
  await ann.page.screenshot({ path: shot('group-info-filing') });
  await audit(ann.page, 'group info, light');
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await audit(ann.page, 'group info, dark');
  await ann.page.emulateMedia({ colorScheme: 'light' });
  await ann.page.goto('/chats');
  await expect.poll(() => rowNames(ann.page)).toEqual([name, ben.name]);
  await expect(groupRow(ann.page, name)).toContainText('Pinned');

  // Archived: out of the list, under "Archived (1)".
  expect(await file(ann, seen, href, 'Archive group'), 'archiving sends nothing').toEqual([]);
  await ann.page.goto('/chats');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name]);
  await ann.page.getByRole('button', { name: 'Archived (1)' }).click();
  await expect(archivedList(ann.page).locator(`a[data-group="${name}"]`)).toBeVisible();
  await ann.page.getByRole('button', { name: '← Back to chats' }).click();

  // A new group message brings it back, pinned on top again.
  await sendToGroup(ben, name, 'on my way');
  await expect.poll(() => rowNames(ann.page), { timeout: 30_000 }).toEqual([name, ben.name]);
  await expect(ann.page.getByRole('button', { name: /^Archived/ })).toHaveCount(0);

  // Muted and archived: a new message leaves it there.
  expect(await file(ann, seen, href, 'Mute notifications'), 'muting sends nothing').toEqual([]);
  expect(await file(ann, seen, href, 'Archive group'), 'archiving sends nothing').toEqual([]);
  await sendToGroup(ben, name, 'anyone?');
  await ann.page.goto('/chats');
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name]);
  await ann.page.getByRole('button', { name: 'Archived (1)' }).click();
  const archived = archivedList(ann.page).locator(`a[data-group="${name}"]`);
  await expect(archived).toContainText('anyone?', { timeout: 30_000 });
  await expect(archived).toContainText('Muted');
  await expect(ann.page.getByRole('button', { name: 'Archived (1)' })).toHaveCount(0);
  await ann.page.getByRole('button', { name: '← Back to chats' }).click();
  await expect.poll(() => rowNames(ann.page)).toEqual([ben.name]);

  // Out of the archive by hand: pinned and muted, first in the list, both marks on its row.
  expect(await file(ann, seen, href, 'Unarchive group'), 'unarchiving sends nothing').toEqual([]);
  // The same watch sees what does go to the host: a group message does.
  expect(await sendToGroup(ann, name, 'coming', seen), 'a message is seen leaving').not.toEqual([]);
  await ann.page.goto('/chats');
  await expect.poll(() => rowNames(ann.page)).toEqual([name, ben.name]);
  await expect(groupRow(ann.page, name)).toContainText('Pinned');
  await expect(groupRow(ann.page, name)).toContainText('Muted');
  await ann.page.screenshot({ path: shot('chat-list-pinned-muted-group') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await audit(ann.page, 'chat list with a pinned muted group, dark');
  await ann.page.screenshot({ path: shot('chat-list-pinned-muted-group-dark') });

  // Ben sees nothing of it.
  await ben.page.goto('/chats');
  await expect(groupRow(ben.page, name)).toBeVisible();
  await expect(groupRow(ben.page, name)).not.toContainText(/Pinned|Muted/);
});

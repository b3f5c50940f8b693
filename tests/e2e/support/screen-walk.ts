/**
 * The walk through every screen a person reaches (README "Accessibility"), shared by the light
 * and dark runs of screens.spec.ts: Alice signs up, chats with Bob, opens his safety number,
 * blocks and unblocks him, goes offline, opens settings, accepts Carol's message request, creates
 * a group with Bob and Carol and writes in it (two sender names, a reply quote, reactions, the
 * message menu and the emoji picker open),
 * pins and mutes it (the chat list with both marks and an unread badge), and Bob calls her (the
 * incoming call screen). At each screen `look` is called with the screen's name; what it does with
 * the page (screenshot, axe) is the spec's.
 */
import { expect, type Browser, type Page } from '@playwright/test';
import { bubbles, chatHref, chatRow, expectClean, openChat, openPerson, register, send, startChat, type Person } from './parley';
import { groupRow } from './groups';

/**
 * `within`: the part that is new on this screen, all axe needs to check (the rest was checked on
 * the screen before); `exclude`: a part axe may skip (the emoji grid's hundreds of alike cells).
 */
export type Look = (page: Page, screen: string, o?: { within?: string; exclude?: string }) => Promise<void>;

export interface WalkOptions {
  viewport: { width: number; height: number };
  colorScheme: 'light' | 'dark';
  /** Every person opened is pushed here, for the spec to close after the test. */
  people: Person[];
  look: Look;
}

const GROUP = 'Crag day';

const groupBubble = (page: Page, text: string) =>
  page.getByRole('list', { name: 'Group messages' }).getByTestId('group-message').filter({ hasText: text });

export async function walkScreens(browser: Browser, { viewport, colorScheme, people, look }: WalkOptions): Promise<void> {
  const alice = await openPerson(browser, 'alice', viewport, colorScheme);
  const bob = await openPerson(browser, 'bob');
  people.push(alice, bob);
  const page = alice.page;

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
  await look(page, 'onboarding');
  await page.getByLabel('Username').fill('No spaces!');
  await expect(page.getByText('Only letters, digits, _ or . are allowed.')).toBeVisible();
  await look(page, 'onboarding-invalid');
  await register(alice);
  await look(page, 'chats-empty');

  await page.getByRole('link', { name: 'New chat', exact: true }).click();
  await page.getByLabel('Their username').fill('nobody_by_that_name');
  await page.getByRole('button', { name: 'Start chat' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await look(page, 'new-chat-error');

  await register(bob);
  await page.getByLabel('Their username').fill(bob.name);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await expect(page.getByRole('log', { name: `Messages with ${bob.name}` })).toBeVisible();
  await look(page, 'conversation-empty');

  await page.goto('/chats');
  await startChat(bob, alice.name);
  await send(bob, alice.name, 'Hey! Are we still on for Saturday? 🚲');
  await expect(chatRow(page, bob.name)).toContainText('1 unread');
  await look(page, 'chats-list');

  await openChat(alice, bob.name);
  await send(alice, bob.name, 'Yes! Meet at the bridge at 10?');
  await send(bob, alice.name, 'Perfect.\nI will bring coffee ☕ and the map.');
  await send(alice, bob.name, 'Great — here is the route: https://example.org/a/really/long/link/that/should/wrap/instead/of/overflowing');
  await send(bob, alice.name, '👍🎉🚴‍♀️🚴‍♂️🌉☀️');
  await expect(bubbles(page, bob.name)).toHaveCount(5);
  await expect(bubbles(page, bob.name).nth(3).getByRole('img', { name: 'Read' })).toBeVisible({ timeout: 30_000 });
  await look(page, 'conversation');

  await page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
  await expect(page.getByTestId('safety-number')).toHaveAttribute('aria-label', /^Safety number (\d{5} ){11}\d{5}$/);
  await expect(page.getByTestId('safety-number').locator('span')).toHaveCount(12);
  await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
  await look(page, 'contact');
  await page.getByRole('button', { name: 'Mark as verified' }).click();
  await expect(page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
  await look(page, 'contact-verified');

  await page.getByRole('button', { name: `Block ${bob.name}` }).scrollIntoViewIfNeeded();
  await look(page, 'contact-privacy');
  await page.getByRole('button', { name: `Block ${bob.name}` }).click();
  await page.getByRole('link', { name: 'Back to conversation' }).click();
  await expect(page.getByRole('button', { name: 'Unblock' })).toBeVisible();
  await look(page, 'conversation-blocked');
  await page.getByRole('button', { name: 'Unblock' }).click();
  await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toBeVisible();

  await alice.context.setOffline(true);
  await expect(page.getByText("You're offline")).toBeVisible();
  await look(page, 'conversation-offline');
  await alice.context.setOffline(false);
  await expect(page.getByText("You're offline")).toHaveCount(0, { timeout: 30_000 });

  await page.goto('/settings');
  await expect(page.getByRole('heading', { name: 'Settings', exact: true })).toBeVisible();
  await look(page, 'settings');

  // A stranger's first text is a message request (P42); Alice accepts it, so Carol knows her.
  const carol = await openPerson(browser, 'carol');
  people.push(carol);
  await register(carol);
  await page.goto('/chats');
  await startChat(carol, alice.name);
  await send(carol, alice.name, 'Hi, we met at the meetup');
  await page.getByRole('list', { name: 'Message requests' }).getByRole('link').first().click();
  await expect(page.getByRole('region', { name: `Message request from ${carol.name}` })).toBeVisible();
  await look(page, 'message-request');
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(page.getByRole('region', { name: `Message request from ${carol.name}` })).toHaveCount(0);

  // A group with Bob and Carol, both of whom know Alice (so neither gets a group request).
  await page.goto('/group/new');
  await page.getByLabel('Group name').fill(GROUP);
  await page.getByLabel("Members' usernames").fill(`${bob.name}, ${carol.name}`);
  await look(page, 'group-new');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: GROUP, level: 1 })).toBeVisible({ timeout: 30_000 });
  const groupHref = new URL(page.url()).pathname;
  for (const [p, text] of [
    [bob, 'Who is bringing the rope?'],
    [carol, 'I can — and snacks 🍫'],
  ] as const) {
    await expect(groupRow(p.page, GROUP)).toBeVisible({ timeout: 30_000 });
    await p.page.goto(groupHref);
    const box = p.page.getByLabel(`Message ${GROUP}`);
    await box.fill(text);
    await box.press('Enter');
    await expect(box).toHaveValue('');
  }
  await expect(groupBubble(page, 'I can — and snacks')).toBeVisible({ timeout: 30_000 });
  await expect(groupBubble(page, 'Who is bringing the rope?')).toBeVisible();

  // The message menu open on Bob's message, then a reply quoting it; reactions from Alice and Carol.
  const menu = page.getByRole('menu', { name: 'Message actions' });
  await groupBubble(page, 'Who is bringing the rope?').click({ button: 'right' });
  await expect(menu.getByRole('menuitem', { name: 'Reply' })).toBeVisible();
  await look(page, 'group-message-menu');
  await menu.getByRole('menuitem', { name: 'Reply' }).click();
  const box = page.getByLabel(`Message ${GROUP}`);
  await box.fill('Thanks Bob! I will bring the map 🗺️');
  await box.press('Enter');
  await expect(groupBubble(page, 'I will bring the map').getByTestId('quote')).toContainText(bob.name);
  await groupBubble(page, 'I can — and snacks').click({ button: 'right' });
  await menu.getByRole('menuitem', { name: 'React' }).click();
  await page.getByRole('menuitemradio', { name: /👍/ }).click();
  const onCarol = groupBubble(carol.page, 'I will bring the map');
  await expect(onCarol).toBeVisible({ timeout: 30_000 });
  await onCarol.click({ button: 'right' });
  await carol.page.getByRole('menu', { name: 'Message actions' }).getByRole('menuitem', { name: 'React' }).click();
  await carol.page.getByRole('menuitemradio', { name: /❤️/ }).click();
  await expect(groupBubble(page, 'I will bring the map').getByTestId('reactions')).toContainText('❤️', { timeout: 30_000 });
  await expect(groupBubble(page, 'I can — and snacks').getByTestId('reactions')).toContainText('👍');
  await look(page, 'group-conversation');

  await page.getByRole('button', { name: 'Emoji', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Emoji', exact: true })).toBeVisible();
  // The page behind is the screen before; past its first two rows each section's cells are styled alike (README "Accessibility").
  await look(page, 'group-emoji-picker', { within: '[data-testid=emoji-picker]', exclude: '[data-testid=emoji-picker] [role=row]:nth-child(n+3)' });
  // Opened with the mouse, the focus stayed on the message the reaction menu gave it back to: Escape still closes it.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Emoji', exact: true })).toHaveCount(0);
  await expect(box).toBeFocused();

  // Pinned and muted (only on this device), then a new message from Bob: the row carries both marks and an unread badge.
  await page.goto(`${groupHref}/info`);
  // Each member's safety number keeps the width to read in a few lines, beside or above the admin's buttons.
  const sn = page.locator(`[data-member="${carol.name}"] .sn`);
  await expect(sn).toBeVisible({ timeout: 30_000 });
  const lines = await sn.evaluate((e) => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)));
  expect.soft(lines, 'lines the safety number takes on the group info screen').toBeLessThanOrEqual(3);
  await look(page, 'group-info');
  const filing = page.getByRole('region', { name: 'This group' });
  for (const [button, done] of [
    ['Pin group', 'Unpin group'],
    ['Mute notifications', 'Unmute notifications'],
  ] as const) {
    await filing.getByRole('button', { name: button, exact: true }).click();
    await expect(filing.getByRole('button', { name: done, exact: true })).toBeVisible();
  }
  await page.goto('/chats');
  await expect(groupRow(page, GROUP)).toBeVisible();
  const bobBox = bob.page.getByLabel(`Message ${GROUP}`);
  await bobBox.fill('Rope packed. See you at the crag at 9, bring warm layers and a head torch!');
  await bobBox.press('Enter');
  await expect(groupRow(page, GROUP)).toContainText('1 unread', { timeout: 30_000 });
  await expect(groupRow(page, GROUP)).toContainText('Pinned');
  await expect(groupRow(page, GROUP)).toContainText('Muted');
  // The marks leave the preview its room: its text shows across most of the row, not cut to "Ro…".
  const shown = await groupRow(page, GROUP).evaluate((row) => {
    const preview = row.querySelector('.preview')!;
    const text = [...preview.childNodes].findLast((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())!;
    const range = document.createRange();
    range.selectNodeContents(text);
    const [t, p] = [range.getBoundingClientRect(), preview.getBoundingClientRect()];
    return (Math.min(t.right, p.right) - t.left) / row.getBoundingClientRect().width;
  });
  expect.soft(shown, 'share of the row showing the message preview').toBeGreaterThan(0.45);
  await look(page, 'chats-pinned-muted-group');

  // Bob calls: the incoming call screen (P42 lets it ring: Alice knows Bob), then Alice declines.
  await bob.context.grantPermissions(['camera', 'microphone']);
  await bob.page.goto(await chatHref(bob.page, alice.name));
  await bob.page.getByRole('button', { name: `Voice call ${alice.name}` }).click();
  const call = page.getByRole('dialog', { name: /^Call with / });
  await expect(call).toContainText('Incoming voice call', { timeout: 30_000 });
  await look(page, 'call-incoming');
  await call.getByRole('button', { name: 'Decline' }).click();

  await expectClean(bob);
}

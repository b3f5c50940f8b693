/**
 * P31 no XSS path: hostile message bodies render as inert text — no element, no script, no
 * dialog, no CSP violation — and long words and emoji wrap inside the bubble instead of
 * widening a phone-sized page.
 */
import { expect, test } from '@playwright/test';
import { bubbles, chatRow, expectClean, openChat, openPerson, register, send, startChat, texts, type Person } from './support/parley';

const HOSTILE = [
  '<img src=x onerror="document.body.dataset.pwned=1">',
  '<script>document.body.dataset.pwned=1</script>',
  '"><svg onload=alert(1)>',
  '{@html "<b>bold</b>"} &lt;b&gt; &amp;',
  'javascript:alert(1)',
  '\u202Egnp.exe\u202C  and  zero\u200Bwidth',
  'L'.repeat(400),
  '😀🔐👩‍👩‍👧‍👦🏳️‍🌈'.repeat(12)
];

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('P31 hostile message text renders as text with zero CSP violations', async ({ browser }) => {
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 });
  people.push(alice, bob);
  let dialogs = 0;
  bob.page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  for (const text of HOSTILE) await send(alice, bob.name, text);

  await expect(chatRow(bob.page, alice.name)).toContainText(`${HOSTILE.length} unread`);
  await openChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name)).toHaveCount(HOSTILE.length);
  expect(await texts(bob.page, alice.name)).toEqual(HOSTILE);

  const log = bob.page.getByRole('log');
  await expect(log.locator('img, script, svg[onload], b')).toHaveCount(0);
  expect(await bob.page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
  expect(dialogs).toBe(0);

  // Wrapping: no bubble is wider than the log, and the page never scrolls sideways.
  const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBe(0);
  const logBox = (await log.boundingBox())!;
  for (const b of await bubbles(bob.page, alice.name).all()) {
    const box = (await b.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(logBox.x + logBox.width + 1);
  }

  await expectClean(alice);
  await expectClean(bob);
});

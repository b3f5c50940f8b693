/**
 * SECURITY.md P42 in three browsers: carol and dave, strangers to bob, write to him. Both land in
 * bob's "Message requests"; neither gets a receipt while it is one. Bob accepts carol (she then
 * sees "Read", and her chat moves to his conversations) and blocks dave (whose later messages
 * never arrive and never show as delivered).
 */
import { expect, test } from '@playwright/test';
import { bubbles, chatRow, expectClean, messageLog, openChat, openPerson, register, registered, send, startChat, type Person } from './support/parley';

const SHOTS = 'tests/e2e/screenshots';
const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

test('P42 a stranger\'s request is accepted and another is blocked; requests get no receipts', async ({ browser }) => {
  test.setTimeout(120_000);
  const bob = await openPerson(browser, 'bob');
  const carol = await openPerson(browser, 'carol');
  const dave = await openPerson(browser, 'dave');
  people.push(bob, carol, dave);
  for (const p of [bob, carol, dave]) await register(p);

  await startChat(carol, bob.name);
  await send(carol, bob.name, 'Hi Bob, we met at the meetup — https://example.org/slides');
  await startChat(dave, bob.name);
  await send(dave, bob.name, 'You won a prize! Click here');
  // Dave also sends a photo: in bob's request it shows blurred until bob chooses to open it.
  const png = Buffer.from((await dave.page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = c.height = 200;
    const g = c.getContext('2d')!;
    g.fillStyle = 'hsl(340 80% 55%)';
    g.fillRect(0, 0, 200, 200);
    return c.toDataURL('image/png');
  })).split(',')[1]!, 'base64');
  await dave.page.getByTestId('attach-input').setInputFiles({ name: 'prize.png', mimeType: 'image/png', buffer: png });
  await dave.page.getByTestId('attach-panel').getByRole('button', { name: 'Send' }).click();
  await expect(dave.page.getByTestId('attach-panel')).toHaveCount(0, { timeout: 30_000 });

  const requests = bob.page.getByRole('list', { name: 'Message requests' });
  await expect(requests.getByRole('link')).toHaveCount(2);
  await expect(bob.page.getByRole('list', { name: 'Conversations' }).getByRole('link')).toHaveCount(0);
  await bob.page.screenshot({ path: `${SHOTS}/requests-list.png` });

  // Nothing went back to either stranger: their messages stay "Sent".
  const carols = bubbles(carol.page, bob.name);
  const daves = bubbles(dave.page, bob.name);
  await expect(carols.getByRole('img', { name: 'Sent' })).toHaveCount(1);
  await expect(daves.getByRole('img', { name: 'Sent' })).toHaveCount(2);

  // Bob reads carol's request: still no receipt, no call buttons, links are plain text.
  await openChat(bob, carol.name);
  const bar = bob.page.getByRole('region', { name: `Message request from ${carol.name}` });
  await expect(bar).toBeVisible();
  await expect(messageLog(bob.page, carol.name).getByRole('link')).toHaveCount(0);
  await expect(bob.page.getByRole('button', { name: `Voice call ${carol.name}` })).toHaveCount(0);
  await bob.page.screenshot({ path: `${SHOTS}/requests-bar.png` });
  await bob.page.waitForTimeout(500);
  await expect(carols.getByRole('img', { name: 'Sent' })).toHaveCount(1);

  await bar.getByRole('button', { name: 'Accept' }).click();
  await expect(bar).toHaveCount(0);
  await expect(carols.getByRole('img', { name: 'Read' })).toHaveCount(1, { timeout: 20_000 });
  await expect(bob.page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${carol.name}\\b`) })).toBeVisible();
  await send(bob, carol.name, 'Hi Carol! Thanks for the slides.');
  await expect(bubbles(carol.page, bob.name).last()).toContainText('Thanks for the slides');

  // Dave is blocked from his request.
  await chatRow(bob.page, dave.name).click();
  const daveBar = bob.page.getByRole('region', { name: `Message request from ${dave.name}` });
  await expect(bubbles(bob.page, dave.name).getByTestId('thumbnail')).toHaveClass(/blurred/);
  await daveBar.getByRole('button', { name: 'Block' }).click();
  await expect(bob.page.getByText(`You blocked ${dave.name}`)).toBeVisible();
  await send(dave, bob.name, 'Are you there?');
  await bob.page.waitForTimeout(1500);
  await expect(bubbles(bob.page, dave.name)).toHaveCount(2);
  await expect(daves.getByRole('img', { name: /Delivered|Read/ })).toHaveCount(0);
  await bob.page.screenshot({ path: `${SHOTS}/requests-blocked.png` });
  for (const p of [bob, carol, dave]) await expectClean(p);
});

test('P42 what is typed in a request\'s box survives Accept and is sent as typed, with typing notices on', async ({ browser }) => {
  const [alice, bob] = (await registered(browser, people, 'alice', 'bob')) as [Person, Person];
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'Hello Bob');
  await openChat(bob, alice.name);
  const box = bob.page.getByRole('textbox', { name: `Message ${alice.name}` });
  await box.fill('Hi Alice');
  const bar = bob.page.getByRole('region', { name: `Message request from ${alice.name}` });
  await bar.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(bar).toHaveCount(0);
  // Accepting used to swap the composer for a new, empty one: the draft was gone.
  await expect(box).toHaveValue('Hi Alice');
  await box.press('Enter');
  await expect(box).toHaveValue('');
  // Straight after Accept, as typed: it arrives (this was lost while typing notices were on).
  await send(bob, alice.name, 'and one more');
  await expect(bubbles(alice.page, bob.name)).toHaveText([/Hello Bob/, /Hi Alice/, /and one more/], { timeout: 30_000 });
  await expectClean(alice);
  await expectClean(bob);
});

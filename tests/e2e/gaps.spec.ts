/**
 * P14 as bob sees it, with the host withholding one message: bob reaches the host through a proxy
 * that plays a host dropping messages (support/host-proxy.ts) and swallows one pushed
 * envelope. When alice's next
 * message arrives, bob's conversation shows "1 message could not be delivered" where the missing
 * one belongs; when the socket reconnects and the host redelivers it, the marker goes and the
 * message takes its place.
 */
import { expect, test } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { bubbles, expectClean, messageLog, openPerson, register, send, startChat, texts, type Person } from './support/parley';
import { HostProxy } from './support/host-proxy';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
const people: Person[] = [];
let proxy: HostProxy | undefined;
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
  await proxy?.close();
  proxy = undefined;
});

test('P14 a withheld message shows as a gap where it belongs and is filled when it arrives late', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  proxy = await HostProxy.start(baseURL!);
  const alice = await openPerson(browser, 'alice');
  const bob = await openPerson(browser, 'bob', { width: 390, height: 844 }, 'light', proxy.url);
  people.push(alice, bob);

  await register(alice);
  await register(bob);
  await startChat(alice, bob.name);
  await send(alice, bob.name, 'one');
  await startChat(bob, alice.name);
  await expect(bubbles(bob.page, alice.name).last()).toContainText('one');

  proxy.withhold = 1;
  await send(alice, bob.name, 'two (withheld)');
  await expect.poll(() => proxy!.withhold).toBe(0);
  await send(alice, bob.name, 'three');
  const log = messageLog(bob.page, alice.name);
  await expect(bubbles(bob.page, alice.name).last()).toContainText('three');
  await expect(log.getByRole('note').filter({ hasText: '1 message could not be delivered.' })).toBeVisible();
  expect(await texts(bob.page, alice.name)).toEqual(['one', 'three']);
  await bob.page.screenshot({ path: `${DIR}conversation-gap-phone.png` });

  // The socket drops; on reconnect the host pushes what was never acked: the gap fills in place.
  proxy.dropSockets();
  await expect(log.getByRole('note').filter({ hasText: 'could not be delivered' })).toHaveCount(0, { timeout: 30_000 });
  expect(await texts(bob.page, alice.name)).toEqual(['one', 'two (withheld)', 'three']);
  await expectClean(bob);
});

/**
 * P2 end to end, with the host lying: when alice first looks bob up, the lookup (P49) and then
 * her bundle request are answered with a substituted identity (a fresh one the "host" controls). Alice trusts it on
 * first use and even marks it verified. When the real bob then writes to her, his identity
 * differs from the verified one: the conversation shows a notice, the composer is replaced by
 * "Safety number changed — verify or accept to keep sending", and sending resumes only after
 * she accepts. The substitution is done by intercepting the vault worker's request in alice's
 * browser context — what a compromised host would answer.
 */
import { expect, test } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { lieAtLookup, substituteIdentity } from './support/fake-bundle';
import { bubbles, expectClean, messageLog, openPerson, register, send, startChat, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close();
});

for (const vp of [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 }
] as const) {
  test(`P2 on ${vp.name}: a verified contact's new key blocks sending until accepted`, async ({ browser }) => {
    test.setTimeout(90_000);
    const alice = await openPerson(browser, 'alice', { width: vp.width, height: vp.height });
    const bob = await openPerson(browser, 'bob');
    people.push(alice, bob);
    await register(alice);
    await register(bob);

    // The "host" answers alice's lookup of bob, and her bundle request, with its own identity.
    const fake = await substituteIdentity(bob.name);
    const lookups = await lieAtLookup(alice.context, bob.name, fake);
    let substituted = 0;
    await alice.context.route(`**/api/v1/bundles/${bob.name}`, async (route) => {
      substituted++;
      await route.fulfill({ status: 200, contentType: 'application/json', body: fake.bundle });
    });
    await startChat(alice, bob.name);
    expect(lookups()).toBe(1);
    await alice.page.getByRole('link', { name: `Safety number and settings for ${bob.name}` }).click();
    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await expect(alice.page.getByText(`✓ You verified ${bob.name}`)).toBeVisible();
    await alice.page.getByRole('link', { name: 'Back to conversation' }).click();
    await send(alice, bob.name, 'before the change');
    // The first send needs a session: only now is the (substituted) bundle fetched, in the background.
    await expect.poll(() => substituted).toBe(1);

    // The real bob writes: his identity is not the one alice verified.
    await startChat(bob, alice.name);
    await send(bob, alice.name, 'hi, it is really me');
    await expect(bubbles(alice.page, bob.name).last()).toContainText('hi, it is really me');
    const page = alice.page;
    await expect(messageLog(page, bob.name).getByRole('note').filter({ hasText: 'safety number' }).last()).toContainText(
      `Your safety number with ${bob.name} changed`
    );
    await expect(page.getByText('Safety number changed — verify or accept to keep sending.')).toBeVisible();
    // P3: the message that came under the changed key says so.
    await expect(bubbles(page, bob.name).last().getByTestId('new-key-flag')).toHaveText('New safety number');
    await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toHaveCount(0);
    await page.screenshot({ path: `${DIR}conversation-identity-changed-${vp.name}.png` });

    await page.getByRole('link', { name: 'Verify', exact: true }).click();
    await expect(page.getByText(`${bob.name}'s safety number changed.`)).toBeVisible();
    await expect(page.getByText('Not verified')).toBeVisible();
    await page.screenshot({ path: `${DIR}contact-identity-changed-${vp.name}.png` });
    await page.getByRole('link', { name: 'Back to conversation' }).click();

    await page.getByRole('button', { name: 'Accept' }).click();
    await expect(page.getByRole('textbox', { name: `Message ${bob.name}` })).toBeVisible();
    await expect(messageLog(page, bob.name)).toContainText('You accepted the new safety number');
    await send(alice, bob.name, 'after accepting');
    await expect(bubbles(bob.page, alice.name).last()).toContainText('after accepting');
    await expectClean(alice);
  });
}

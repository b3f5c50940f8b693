/**
 * P38 in real browsers against the shipped default host (one realm, on the app's own origin):
 * the recovery screen offers no short PIN and says why, a generated recovery key is written down,
 * typed back and restores the account; a failed setup shows its reason and keeps the form; a
 * tampered realm answer is reported as tampering with the realm named, never as a wrong secret;
 * "no attempt was used" appears only when no realm evaluated; and the signed-in browser is told
 * about wrong attempts.
 */
import { expect, test, type Page, type Route } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { expectClean, openPerson, type Person } from './support/parley';

const DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));
const PASSPHRASE = 'otter plasma wicker junction';

const people: Person[] = [];
test.afterEach(async () => {
  for (const p of people.splice(0)) await p.context.close().catch(() => undefined);
});

async function toRecoveryStep(p: Person): Promise<void> {
  await p.page.goto('/');
  await p.page.getByLabel('Username').fill(p.name);
  await expect(p.page.getByText(`✓ ${p.name} is available`)).toBeVisible();
  await p.page.getByRole('button', { name: 'Create account' }).click();
  await expect(p.page.getByRole('heading', { name: 'Protect your account' })).toBeVisible({ timeout: 30_000 });
}

async function withPassphrase(page: Page, secret: string): Promise<void> {
  await page.getByLabel(/New passphrase/).fill(secret);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Type the same passphrase again').fill(secret);
  await page.getByRole('button', { name: 'Protect my account' }).click();
}

async function restore(page: Page, username: string, secret: string): Promise<void> {
  await page.goto('/restore');
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('PIN, passphrase or recovery key').fill(secret);
  await page.getByRole('button', { name: 'Restore' }).click();
}

/** Realm calls from the vault worker, answered by `answer` (the original response is fetched first). */
async function routeRealm(p: Person, answer: (route: Route, original: Buffer) => Promise<void>): Promise<void> {
  await p.context.route('**/realm/', async (route) => {
    const response = await route.fetch();
    await answer(route, await response.body());
  });
}

test('P38 a single operator gets no short PIN: the screen says why, and a written-down recovery key restores the account', async ({ browser }) => {
  test.setTimeout(120_000);
  const erin = await openPerson(browser, 'erin');
  people.push(erin);
  await toRecoveryStep(erin);
  const page = erin.page;
  await expect(page.getByRole('radio', { name: 'Numbers' })).toHaveCount(0);
  await expect(page.getByText('whoever operates it could try every short PIN offline')).toBeVisible();
  // A short PIN typed as a passphrase is refused with the reason.
  await page.getByLabel(/New passphrase/).fill('4829 4829 48');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('alert')).toContainText('Too easy to guess offline');
  await page.screenshot({ path: `${DIR}recovery-why-desktop.png` });

  await page.getByRole('radio', { name: 'Recovery key' }).check();
  const keyBox = page.getByLabel('Your recovery key');
  await expect(keyBox).toHaveText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){6}$/);
  const key = (await keyBox.textContent())!.trim();
  await page.screenshot({ path: `${DIR}recovery-key-desktop.png` });
  await page.getByRole('button', { name: 'I wrote it down' }).click();
  await page.getByLabel('Type the recovery key you wrote down').fill('0000-0000-0000-0000-0000-0000-0000');
  await page.getByRole('button', { name: 'Protect my account' }).click();
  await expect(page.getByRole('alert')).toContainText('That is not the recovery key shown');
  // Typed back the way people write: lower case, spaces instead of dashes.
  await page.getByLabel('Type the recovery key you wrote down').fill(key.toLowerCase().replace(/-/g, ' '));
  await page.getByRole('button', { name: 'Protect my account' }).click();
  await expect(page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });

  const fresh = await openPerson(browser, 'erin-new');
  people.push(fresh);
  await restore(fresh.page, erin.name, key.replace(/-/g, ''));
  await expect(fresh.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });
  await expectClean(fresh);
});

test('P38 a failed setup shows its reason and keeps the form', async ({ browser }) => {
  test.setTimeout(90_000);
  const fay = await openPerson(browser, 'fay');
  people.push(fay);
  await toRecoveryStep(fay);
  // The recovery service is down.
  await fay.context.route('**/realm/', (route) => route.fulfill({ status: 503, body: '' }));
  await withPassphrase(fay.page, PASSPHRASE);
  const alert = fay.page.getByRole('alert');
  await expect(alert).toContainText('Setting up recovery failed', { timeout: 30_000 });
  await expect(alert).toContainText('realms unavailable; registration not attempted');
  await expect(fay.page.getByLabel(/New passphrase/)).toBeVisible();
  await fay.page.screenshot({ path: `${DIR}recovery-setup-failed-desktop.png` });
  // Back up: the same form now works.
  await fay.context.unroute('**/realm/');
  await withPassphrase(fay.page, PASSPHRASE);
  await expect(fay.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });
});

test('P38 a tampered realm answer is tampering by that realm, not a wrong secret; "no attempt was used" only when true; the owner is told', async ({ browser }) => {
  test.setTimeout(180_000);
  const gus = await openPerson(browser, 'gus');
  people.push(gus);
  await toRecoveryStep(gus);
  await withPassphrase(gus.page, PASSPHRASE);
  await expect(gus.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });

  const fresh = await openPerson(browser, 'gus-new');
  people.push(fresh);
  // One byte of the realm's evaluation answer (op 2, status 0) is changed on the way.
  await routeRealm(fresh, async (route, body) => {
    if (body[1] === 2 && body[2] === 0) body[40] = body[40]! ^ 0x10;
    await route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
  });
  await restore(fresh.page, gus.name, PASSPHRASE);
  const alert = fresh.page.getByRole('alert');
  await expect(alert).toContainText('The answer from recovery service parley failed its integrity check', { timeout: 60_000 });
  await expect(alert).toContainText('This is not a wrong PIN or passphrase');
  await expect(alert).toContainText('This counted as one attempt. 9 attempts left.');
  await expect(alert).not.toContainText('No attempt was used');
  await fresh.page.screenshot({ path: `${DIR}restore-tampered-desktop.png` });

  // The signed-in browser is told that someone tried.
  await gus.page.reload();
  await expect(gus.page.getByRole('alert').filter({ hasText: 'wrong passphrase attempt' })).toContainText(/1 wrong passphrase attempt since .+If this was not you/, { timeout: 30_000 });
  await gus.page.screenshot({ path: `${DIR}recovery-attempts-alert-desktop.png` });

  // The service unreachable: nothing evaluated, and only then "No attempt was used".
  await fresh.context.unroute('**/realm/');
  await fresh.context.route('**/realm/', (route) => route.fulfill({ status: 503, body: '' }));
  await fresh.page.getByRole('button', { name: 'Back' }).click();
  await restore(fresh.page, gus.name, PASSPHRASE);
  await expect(fresh.page.getByRole('alert')).toContainText('not reachable right now. No attempt was used.', { timeout: 60_000 });

  // Honest path: the right passphrase restores.
  await fresh.context.unroute('**/realm/');
  await restore(fresh.page, gus.name, PASSPHRASE);
  await expect(fresh.page.getByRole('heading', { name: 'Chats', level: 1 })).toBeVisible({ timeout: 60_000 });
  await expectClean(fresh);
});

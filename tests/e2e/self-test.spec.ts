/**
 * The app shell end to end (DESIGN.md §3): the built app, served by the real host under its CSP, starts the vault
 * worker, loads libsodium's wasm there, and round-trips text through PQXDH + Double Ratchet —
 * while the main thread never holds libsodium or key material (DESIGN.md §1, P30, P31).
 */
import { expect, test } from '@playwright/test';
import { constructedWorkers, installGuard } from './support/guard';

/** Strings that only appear in libsodium's code; the main-thread bundle must contain none. */
const SODIUM_MARKERS = ['crypto_aead_xchacha20poly1305_ietf_encrypt', 'crypto_kem_mlkem768', 'libsodium'];

test('the vault worker decrypts what it encrypted, with no CSP violation or console error', async ({ page }) => {
  const guard = await installGuard(page);
  await page.goto('/self-test');

  await expect(page.getByRole('status')).toHaveText('Vault ready');
  const input = page.getByLabel('Text to encrypt');
  const text = 'Grüße, Bob — 🔐 meet at 6';
  await input.fill(text);
  await page.getByRole('button', { name: 'Run encryption self-test' }).click();

  const result = page.getByTestId('self-test-result');
  await expect(result).toBeVisible();
  await expect(page.getByTestId('decrypted')).toHaveText(text);
  // A PreKeyMessage carries a 1088-byte ML-KEM ciphertext, so it is far larger than the text.
  const size = Number((await result.getByText(/bytes$/).textContent())?.replace(/\D/g, ''));
  expect(size).toBeGreaterThan(1088 + text.length);
  await expect(result.getByText(/^(\d{5} ){11}\d{5}$/)).toBeVisible();

  expect(await guard.problems(page)).toEqual([]);
});

test('P31 the main thread has no libsodium and the vault runs in a module worker', async ({ page, request }) => {
  const guard = await installGuard(page);
  await page.goto('/self-test');
  await expect(page.getByRole('status')).toHaveText('Vault ready');

  const workers = await constructedWorkers(page);
  expect(workers).toHaveLength(1);
  expect(workers[0]?.type).toBe('module');
  expect(new URL(workers[0]!.url, page.url()).pathname).toMatch(/^\/_app\/immutable\/workers\/vault\.worker-[\w-]+\.js$/);

  const globals = await page.evaluate(() => {
    const g = globalThis as Record<string, unknown>;
    return ['sodium', '_sodium', 'libsodium', 'Module'].filter((name) => g[name] !== undefined);
  });
  expect(globals).toEqual([]);

  // Every script the page loaded, except the worker's own entry (fetched by the page to start
  // it, but run in the worker; its imports land on the worker's own resource timeline).
  const scripts = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .filter((u) => u.endsWith('.js') && !u.includes('/_app/immutable/workers/'))
  );
  expect(scripts.length).toBeGreaterThan(0);
  for (const url of scripts) {
    const body = await (await request.get(url)).text();
    for (const marker of SODIUM_MARKERS) expect(body.includes(marker), `${url} contains ${marker}`).toBe(false);
  }

  expect(await guard.problems(page)).toEqual([]);
});

test("libsodium's wasm is its own file: the worker fetches it as application/wasm, compressed, and its script holds no inline copy", async ({ page, request }) => {
  const wasm: { url: string; type: string; encoding: string }[] = [];
  page.context().on('response', (res) => {
    if (res.url().endsWith('.wasm')) wasm.push({ url: res.url(), type: res.headers()['content-type'] ?? '', encoding: res.headers()['content-encoding'] ?? '' });
  });
  await page.goto('/self-test');
  await expect(page.getByRole('status')).toHaveText('Vault ready');
  expect(wasm).toHaveLength(1);
  expect(new URL(wasm[0]!.url).pathname).toMatch(/^\/_app\/immutable\/workers\/assets\/libsodium-sumo-[\w-]+\.wasm$/);
  expect(wasm[0]!.type).toBe('application/wasm');
  expect(wasm[0]!.encoding).toBe('br');
  const bytes = await (await request.get(wasm[0]!.url)).body();
  expect(bytes.subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d]))).toBe(true);
  const worker = page.workers().find((w) => w.url().includes('/vault.worker-'));
  const script = await (await request.get(worker!.url())).text();
  // The published module carried it as 380,000 characters of base64.
  expect(script).not.toMatch(/[A-Za-z0-9+/]{10000,}/);
  expect(script).toContain('libsodium-sumo-');
});

test("P30 on a first visit the service worker registers only once the vault is up (after libsodium's wasm arrived), so its precache does not compete with the vault's start", async ({ page }) => {
  const order: string[] = [];
  page.context().on('requestfinished', (req) => {
    if (req.url().endsWith('.wasm') && !order.includes('wasm')) order.push('wasm');
  });
  await page.exposeFunction('__parleyRegistered', () => order.push('register'));
  // A string, not a function: the page must see exactly this code (no tooling helpers).
  await page.addInitScript({
    content: `{ const register = ServiceWorkerContainer.prototype.register;
      ServiceWorkerContainer.prototype.register = function (...args) { window.__parleyRegistered(); return register.apply(this, args); }; }`
  });
  await page.goto('/self-test');
  await expect(page.getByRole('status')).toHaveText('Vault ready');
  await expect.poll(() => order.includes('register'), { timeout: 15_000 }).toBe(true);
  expect(order.slice(0, 2)).toEqual(['wasm', 'register']);
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.getRegistration('/').then((r) => r?.active?.scriptURL ?? '')), { timeout: 15_000 }).toMatch(/\/sw-[0-9a-f]{64}\.js$/);
});

test('P30 the host sends a strict CSP that allows the bootstrap script only by hash', async ({ request }) => {
  const res = await request.get('/some/app/route');
  expect(res.status()).toBe(200);
  const csp = res.headers()['content-security-policy'] ?? '';
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src')) ?? '';
  expect(scriptSrc).toMatch(/'sha256-[A-Za-z0-9+/=]+'/);
  expect(scriptSrc).not.toContain('unsafe-inline');
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
});

test('P30 the real host names only exact connect-src origins in both policies, turns forms off, and sends a Permissions-Policy', async ({ page, baseURL }) => {
  const res = await page.goto('/chats');
  const header = res!.headers()['content-security-policy'] ?? '';
  const meta = (await page.locator('meta[http-equiv="content-security-policy"]').getAttribute('content')) ?? '';
  const connect = (csp: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src')) ?? '';
  const origin = new URL(baseURL!);
  expect(connect(header)).toBe(`connect-src 'self' ws://${origin.host}`);
  expect(connect(meta)).toBe("connect-src 'self'");
  for (const csp of [header, meta]) expect(csp).toContain("form-action 'none'");
  const pp = res!.headers()['permissions-policy'] ?? '';
  for (const f of ['camera', 'microphone', 'display-capture']) expect(pp).toContain(`${f}=(self)`);
  expect(pp).toContain('geolocation=()');
});

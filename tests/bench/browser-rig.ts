/**
 * What the browser benchmarks (chat.bench.ts, call.bench.ts, files.bench.ts) share: the host as
 * `npm start` runs it, in its own process serving build/, so that Playwright traffic never shares
 * its event loop; Chromium from the system's binary; an account made through the onboarding
 * screens; and the `--name=N` arguments. Knows nothing of what a benchmark measures.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `--name=N` from the command line: a positive integer, or `fallback` when absent. */
export function intArg(name: string, fallback: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  const n = a ? Number(a.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${a}`);
  return n;
}

/** The benchmarks time the built app, never the dev server. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'build', 'index.html'))) throw new Error('build/ is missing: run `npx vite build` first');
}

/** src/host/main.ts of the tree at `root` (this one by default) on a free loopback port with its data in `dataDir`. */
export async function startHost(dataDir: string, root = ROOT): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/host/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, PARLEY_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`host exited with ${code}`)));
  });
  return {
    url,
    stop: () => new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : (proc.once('exit', () => resolve()), proc.kill('SIGTERM'))))
  };
}

/** Headless Chromium: PLAYWRIGHT_CHROMIUM_PATH, else the system's, else Playwright's own. */
export function launchChromium(args: string[] = ['--no-sandbox', '--disable-gpu']): Promise<Browser> {
  const executablePath = process.env.PLAYWRIGHT_CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  return chromium.launch({ executablePath, args });
}

/** Registers `name` through the onboarding screens on `page` (its context set up by the caller). */
export async function onboard(page: Page, base: string, name: string): Promise<Page> {
  await page.goto(base + '/');
  await page.getByLabel('Username').fill(name);
  await page.getByText(`✓ ${name} is available`).waitFor();
  await page.getByRole('button', { name: 'Create account' }).click();
  // The PIN step follows onboarding; recovery is not what these benchmarks measure.
  await page.getByRole('button', { name: 'Later' }).click();
  await page.getByRole('heading', { name: 'Chats', level: 1 }).waitFor({ timeout: 30_000 });
  return page;
}

/** Opens the chat with `other` from the chat list, as a person would. */
export async function openChat(page: Page, other: string): Promise<void> {
  await page.getByRole('link', { name: 'New chat', exact: true }).click();
  await page.getByLabel('Their username').fill(other);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('heading', { name: other, level: 1 }).waitFor();
}

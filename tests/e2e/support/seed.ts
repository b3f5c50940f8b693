/**
 * Seeds a long conversation into a page's vault through the worker's own storage code
 * (tests/bench/chat-seed.ts, bundled here): loadVault + the message and chat repositories, sealed
 * as the engine seals them. The page's context must bypass CSP (the script is added inline).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let bundle: Promise<string> | undefined;

function seedScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [join(ROOT, 'tests/bench/chat-seed.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // libsodium's loader names Node modules it only requires under Node.
    external: ['fs', 'path', 'crypto']
  }).then((out) => out.outputFiles[0]!.text);
  return bundle;
}

/** Writes `count` texts with `other` (alternating "Me #i" / "You #i"), all older than now. */
export async function seedConversation(page: Page, other: string, count: number): Promise<void> {
  await page.addScriptTag({ content: await seedScript() });
  await page.evaluate(
    ({ other, count }) =>
      (globalThis as unknown as { __seedConversation(db: string, u: string, n: number, end: number): Promise<number> }).__seedConversation(
        'parley',
        other,
        count,
        Date.now() - 60_000
      ),
    { other, count }
  );
}

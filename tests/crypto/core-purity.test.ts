import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';

// The pure-core rule (DESIGN.md §2) is only held if lint actually fires; these lint in-memory
// text as if it lived in the core, so no file is ever written into src/.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: 'tests/support/eslint.config.js' });

async function errorsFor(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? 'fatal');
}

describe('core purity lint', () => {
  test("import 'node:fs' in src/lib/crypto is an error", async () => {
    expect(await errorsFor("import 'node:fs';\n", 'src/lib/crypto/purity-probe.ts')).toContain('no-restricted-imports');
  });

  test.each([
    "import { openDB } from 'idb';\nexport const o = openDB;\n",
    "import * as Comlink from 'comlink';\nexport const c = Comlink;\n",
    "import Peer from 'peerjs';\nexport const p = Peer;\n",
    "import { writable } from 'svelte/store';\nexport const w = writable;\n",
    "import { browser } from '$app/environment';\nexport const b = browser;\n",
    "import { readFileSync } from 'fs';\nexport const r = readFileSync;\n",
    "export { WebSocket } from 'ws';\n"
  ])('forbidden module in src/lib/wire: %s', async (code) => {
    expect(await errorsFor(code, 'src/lib/wire/purity-probe.ts')).toContain('no-restricted-imports');
  });

  test.each([
    'export const w = window.location;\n',
    "export const d = document.createElement('div');\n",
    'export const e = process.env;\n',
    "export const b = Buffer.from('x');\n",
    'export const n = navigator.userAgent;\n',
    "export const l = localStorage.getItem('k');\n"
  ])('forbidden global in the core: %s', async (code) => {
    expect(await errorsFor(code, 'src/lib/crypto/purity-probe.ts')).toContain('no-restricted-globals');
  });

  test.each([
    "export const m = await import('node:crypto');\n",
    'export const g = globalThis.indexedDB;\n'
  ])('indirect escapes are caught too: %s', async (code) => {
    expect(await errorsFor(code, 'src/lib/crypto/purity-probe.ts')).toContain('no-restricted-syntax');
  });

  test('the same import outside the core is allowed (the rule is scoped, not global)', async () => {
    expect(await errorsFor("import 'node:fs';\n", 'src/host/purity-probe.ts')).toEqual([]);
  });

  test('core-only imports lint clean', async () => {
    const code = "import { fail } from '../codec/errors';\nimport { sha256 } from '../crypto/primitives';\nexport const f = [fail, sha256];\n";
    expect(await errorsFor(code, 'src/lib/wire/purity-probe.ts')).toEqual([]);
    expect(await errorsFor("import { wipe } from '../primitives';\nimport { fail } from '../../codec/errors';\nexport const w = [wipe, fail];\n", 'src/lib/crypto/pin/purity-probe.ts')).toEqual([]);
  });

  test.each([
    ['src/lib/codec/purity-probe.ts', "import { sha256 } from '../crypto/primitives';\nexport const s = sha256;\n"],
    ['src/lib/codec/purity-probe.ts', "import { API } from '$lib/wire/host-api';\nexport const a = API;\n"],
    ['src/lib/crypto/purity-probe.ts', "import { encodeContent } from '../wire/content';\nexport const e = encodeContent;\n"],
    ['src/lib/crypto/pin/purity-probe.ts', "import { API } from '../../wire/host-api';\nexport const a = API;\n"],
    ['src/lib/crypto/purity-probe.ts', "import type { Vault } from '../../../workers/storage/schema';\nexport type V = Vault;\n"],
    ['src/lib/wire/purity-probe.ts', "import { VaultError } from '../vault/result';\nexport const v = VaultError;\n"]
  ])('an upward import breaks the floors: %s', async (file, code) => {
    expect(await errorsFor(code, file)).toContain('no-restricted-imports');
  });
});

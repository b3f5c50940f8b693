// ESLint flat config for the whole repo (`eslint -c tests/support/eslint.config.js .`).
//
// It lives here because the repo's top level is fixed (DESIGN.md §2). Besides the recommended
// TypeScript and Svelte rules it enforces the pure core (DESIGN.md §2): src/lib/codec,
// src/lib/crypto and src/lib/wire may not import DOM, Node, storage, RPC, networking or Svelte
// modules, nor touch browser or Node globals, so the same code runs in the worker, the host and
// Node tests. It also keeps the core's floors: codec imports nothing of ours, crypto only codec,
// wire only codec and crypto. tests/crypto/core-purity.test.ts proves the blocks fire;
// tests/arch/imports.test.ts checks the same floors, and that no import cycle exists, on the graph.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import { fileURLToPath } from 'node:url';
import svelteConfig from '../../svelte.config.js';

/** Patterns below are relative to the repo root, wherever eslint is started from. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CORE_WHY = 'src/lib/codec, crypto and wire are the pure core: no DOM, Node, storage, RPC, network or Svelte.';

/**
 * The floors of the core, bottom up: what each may not import of ours (as relative paths or $lib).
 * Relative specifiers are matched by the folder they climb into, so '../wire/x' from crypto and
 * '../../wire/x' from crypto/pin are both caught (crypto's own subfolders are allowed by name).
 */
/** @param {string[]} allowed */
const OURS_ABOVE = (allowed) => `^(?:(?:\\.\\./)+|\\$lib/)(?!(?:${allowed.join('|')})/)[a-z-]+/|workers/`;
const FLOORS = [
  { files: ['src/lib/codec/**'], name: 'codec', why: 'src/lib/codec is the ground floor: it imports nothing of ours.', forbid: '^(?:\\.\\./|\\$lib/)' },
  { files: ['src/lib/crypto/**'], name: 'crypto', why: 'src/lib/crypto imports only src/lib/codec and itself.', forbid: OURS_ABOVE(['codec', 'ratchet', 'pin']) },
  { files: ['src/lib/wire/**'], name: 'wire', why: 'src/lib/wire imports only src/lib/codec, src/lib/crypto and itself.', forbid: OURS_ABOVE(['codec', 'crypto']) }
];

const forbiddenModules = ['idb', 'comlink', 'peerjs', 'peer', 'svelte', 'fs', 'path', 'ws', 'better-sqlite3'];
const forbiddenGlobals = ['window', 'document', 'indexedDB', 'localStorage', 'self', 'navigator', 'process', 'Buffer'];
// Module names as a regex: the exact names, their subpaths, and the svelte/*, $app/*, node:* families.
const forbiddenModuleRegex = `^(?:(?:${forbiddenModules.join('|')})(?:/.*)?|\\$app/.*|node:.*)$`;
const forbiddenGlobalRegex = `^(?:${forbiddenGlobals.join('|')})$`;
// esquery's /regex/ syntax ends at the first '/', so selectors spell it \x2F.
const selectorModuleRegex = forbiddenModuleRegex.replaceAll('/', '\\x2F');

const configs = [
  { ignores: ['build/', '.svelte-kit/', 'node_modules/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node }
    }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        parser: ts.parser,
        extraFileExtensions: ['.svelte'],
        svelteConfig
      }
    }
  },
  {
    rules: {
      // `_`-prefixed names are deliberately unused (e.g. abstract-class parameters in adapters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  ...FLOORS.map((floor) => ({
    name: `parley/pure-core/${floor.name}`,
    files: floor.files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenModules.map((name) => ({ name, message: CORE_WHY })),
          patterns: [
            { regex: forbiddenModuleRegex, message: CORE_WHY },
            { regex: floor.forbid, message: floor.why }
          ]
        }
      ],
      'no-restricted-globals': ['error', ...forbiddenGlobals.map((name) => ({ name, message: CORE_WHY }))],
      'no-restricted-syntax': [
        'error',
        // import('node:fs') and require('fs') escape no-restricted-imports.
        { selector: `ImportExpression[source.value=/${selectorModuleRegex}/]`, message: CORE_WHY },
        { selector: "CallExpression[callee.name='require']", message: CORE_WHY },
        // globalThis.window / globalThis.process reach the same globals by another name.
        { selector: `MemberExpression[object.name='globalThis'][property.name=/${forbiddenGlobalRegex}/]`, message: CORE_WHY }
      ]
    }
  }))
];

export default configs.map((c) => ({ ...c, basePath: ROOT }));

// ESLint flat config for the whole repo (`eslint -c tests/support/eslint.config.js .`).
//
// It lives here because the repo's top level is fixed (DESIGN.md §2). Besides the recommended
// TypeScript and Svelte rules it enforces the pure core (DESIGN.md §2, HELPER-BRIEF house rules):
// src/lib/crypto and src/lib/wire may not import DOM, Node, storage, RPC, networking or Svelte
// modules, nor touch browser or Node globals, so the same code runs in the worker, the host and
// Node tests. tests/crypto/core-purity.test.ts proves the block fires.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import { fileURLToPath } from 'node:url';
import svelteConfig from '../../svelte.config.js';

/** Patterns below are relative to the repo root, wherever eslint is started from. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CORE = ['src/lib/crypto/**', 'src/lib/wire/**'];
const CORE_WHY = 'src/lib/crypto and src/lib/wire are the pure core: no DOM, Node, storage, RPC, network or Svelte.';

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
  {
    name: 'parley/pure-core',
    files: CORE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenModules.map((name) => ({ name, message: CORE_WHY })),
          patterns: [{ regex: forbiddenModuleRegex, message: CORE_WHY }]
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
  }
];

export default configs.map((c) => ({ ...c, basePath: ROOT }));

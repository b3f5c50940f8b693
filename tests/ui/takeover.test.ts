/**
 * P39: which service worker takeovers of an open page the user consented to (src/lib/client/pwa/
 * takeover.ts). Consented: the controller moved to the worker of the build accepted now (this tab's
 * update, or another tab's). Not: a new worker at the same URL (the host changed the installed
 * file), a worker of any other build, or no accepted build at all.
 */
import { expect, test } from 'vitest';
import { consentedTakeover } from '../../src/lib/client/pwa/takeover';

const ORIGIN = 'https://parley.example';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const sw = (hash: string) => `${ORIGIN}/sw-${hash}.js`;

test('P39 moving to the worker of the build accepted now (an update accepted here or in another tab) is consented', () => {
  expect(consentedTakeover(sw(A), sw(B), B, ORIGIN)).toBe(true);
  // A page that no worker controlled yet, taken by the accepted build's worker.
  expect(consentedTakeover(undefined, sw(B), B, ORIGIN)).toBe(true);
});

test('P39 a new worker behind the SAME URL is never consented, even the accepted build\'s URL', () => {
  expect(consentedTakeover(sw(A), sw(A), A, ORIGIN)).toBe(false);
  expect(consentedTakeover(sw(B), sw(B), B, ORIGIN)).toBe(false);
});

test('P39 a worker of a build the user did not accept, or with no accepted build, or none at all, is not consented', () => {
  expect(consentedTakeover(sw(A), sw(C), B, ORIGIN)).toBe(false);
  expect(consentedTakeover(sw(A), sw(B), undefined, ORIGIN)).toBe(false);
  expect(consentedTakeover(sw(A), undefined, B, ORIGIN)).toBe(false);
  // Another origin's URL that merely ends like ours.
  expect(consentedTakeover(sw(A), `https://evil.example/sw-${B}.js`, B, ORIGIN)).toBe(false);
});

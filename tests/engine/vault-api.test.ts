/**
 * The vault contract as the main thread sees it, without a worker: every method resolves to a
 * Result, error codes survive, nothing returned holds key bytes (DESIGN.md §1), and exactly the
 * contract's methods are reachable through Comlink.
 */
import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../src/lib/codec/errors';
import { toResult } from '../../src/lib/vault/result';
import { SELF_TEST_MAX_CHARS } from '../../workers/engine/self-test';
import { VAULT_API_VERSION, VAULT_METHODS } from '../../src/lib/vault/contract';
import { callVault, serveVault } from '../../src/lib/vault/remote';
import { VaultError } from '../../src/lib/vault/result';
import { VaultService } from '../../workers/engine/vault-api';
import { allowlistEndpoint } from '../../workers/engine/comlink-allowlist';

const served = () => serveVault(new VaultService());

/** True if any value reachable from `v` is binary (a key would be). */
function holdsBytes(v: unknown): boolean {
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return true;
  if (v && typeof v === 'object') return Object.values(v).some(holdsBytes);
  return false;
}

describe('vault API', () => {
  test('ready reports the API version and the loaded libsodium', async () => {
    const r = await served().ready();
    expect(r).toEqual({ ok: true, value: { version: VAULT_API_VERSION, sodium: expect.stringMatching(/^\d+\.\d+/) } });
  });

  test('selfTest round-trips unicode text through PQXDH and the ratchet', async () => {
    const text = 'Grüße 🔐 '.repeat(20);
    const r = await served().selfTest(text);
    if (!r.ok) throw new Error(`self-test failed: ${r.error.code}`);
    expect(r.value.plaintext).toBe(text);
    expect(r.value.ciphertextBytes).toBeGreaterThan(1088 + new TextEncoder().encode(text).length);
    expect(r.value.safety).toMatch(/^(\d{5} ){11}\d{5}$/);
  });

  test('P31 selfTest returns only the plaintext, the size and the safety number, no bytes', async () => {
    const r = await served().selfTest('x');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.value).sort()).toEqual(['ciphertextBytes', 'plaintext', 'safety']);
    expect(holdsBytes(r)).toBe(false);
  });

  test('selfTest refuses text over the limit with a typed code, not a throw', async () => {
    const r = await served().selfTest('a'.repeat(SELF_TEST_MAX_CHARS + 1));
    expect(r).toEqual({
      ok: false,
      error: { code: 'InvalidArgument', message: expect.stringContaining(String(SELF_TEST_MAX_CHARS)) }
    });
  });

  test('selfTest accepts text exactly at the limit', async () => {
    const r = await served().selfTest('a'.repeat(SELF_TEST_MAX_CHARS));
    expect(r.ok).toBe(true);
  });
});

describe('toResult', () => {
  test('keeps the code and message of a ProtocolError', async () => {
    const r = await toResult(() => {
      throw new ProtocolError('InvalidMac', 'message 3 failed authentication');
    });
    expect(r).toEqual({ ok: false, error: { code: 'InvalidMac', message: 'InvalidMac: message 3 failed authentication' } });
  });

  test('hides the text of any other error, which may quote internal state', async () => {
    const r = await toResult(async () => {
      throw new Error('key=deadbeef');
    });
    expect(r).toEqual({ ok: false, error: { code: 'Unknown', message: 'internal error' } });
  });
});

describe('the contract across Comlink', () => {
  test('served: exactly the contract methods, frozen, with no prototype to climb', () => {
    const s = served();
    expect(Object.keys(s).sort()).toEqual([...VAULT_METHODS].sort());
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.getPrototypeOf(s)).toBeNull();
    expect((s as unknown as Record<string, unknown>).constructor).toBeUndefined();
  });

  test('callVault unwraps values and turns a failed Result into a VaultError with its code', async () => {
    const vault = callVault(served());
    expect((await vault.ready()).version).toBe(VAULT_API_VERSION);
    await expect(vault.selfTest('a'.repeat(SELF_TEST_MAX_CHARS + 1))).rejects.toMatchObject({ name: 'VaultError', code: 'InvalidArgument' });
    await expect(vault.selfTest('a'.repeat(SELF_TEST_MAX_CHARS + 1))).rejects.toBeInstanceOf(VaultError);
  });
});

describe('P31 the Comlink endpoint passes only calls of contract methods', () => {
  type Listener = (ev: MessageEvent) => void;
  function fakeScope() {
    const listeners = new Set<Listener>();
    return {
      posted: [] as unknown[],
      listeners,
      postMessage(m: unknown) {
        this.posted.push(m);
      },
      addEventListener: (_t: 'message', l: Listener) => void listeners.add(l),
      removeEventListener: (_t: 'message', l: Listener) => void listeners.delete(l),
      deliver(data: unknown) {
        for (const l of listeners) l({ data } as MessageEvent);
      }
    };
  }

  test('allowed: APPLY of a listed method by name, and RELEASE', () => {
    const scope = fakeScope();
    const ep = allowlistEndpoint(scope, VAULT_METHODS);
    const got: unknown[] = [];
    ep.addEventListener('message', (ev) => got.push(ev.data));
    scope.deliver({ id: '1', type: 'APPLY', path: ['listChats'], argumentList: [] });
    scope.deliver({ id: '2', type: 'RELEASE', path: [] });
    expect(got).toHaveLength(2);
    expect(ep.refused).toBe(0);
  });

  test.each([
    ['reading a property', { id: '1', type: 'GET', path: ['listChats'] }],
    ['reading through a method', { id: '1', type: 'GET', path: ['listChats', 'constructor'] }],
    ['calling the Function constructor', { id: '1', type: 'APPLY', path: ['listChats', 'constructor'], argumentList: [] }],
    ['setting a method', { id: '1', type: 'SET', path: ['account'], value: {} }],
    ['constructing', { id: '1', type: 'CONSTRUCT', path: ['account'], argumentList: [] }],
    ['a new endpoint', { id: '1', type: 'ENDPOINT', path: [] }],
    ['a method not in the contract', { id: '1', type: 'APPLY', path: ['resetSession'], argumentList: [] }],
    ['the engine itself', { id: '1', type: 'GET', path: ['engine', 'ctx', 'me'] }],
    ['no path', { id: '1', type: 'APPLY' }],
    ['not an object', 'APPLY listChats']
  ])('refused: %s', (_what, data) => {
    const scope = fakeScope();
    const ep = allowlistEndpoint(scope, VAULT_METHODS);
    const got: unknown[] = [];
    ep.addEventListener('message', (ev) => got.push(ev.data));
    scope.deliver(data);
    expect(got).toEqual([]);
    expect(ep.refused).toBe(1);
  });

  test('removing a listener removes its filtered wrapper from the scope', () => {
    const scope = fakeScope();
    const ep = allowlistEndpoint(scope, VAULT_METHODS);
    const l = () => undefined;
    ep.addEventListener('message', l);
    expect(scope.listeners.size).toBe(1);
    ep.removeEventListener('message', l);
    expect(scope.listeners.size).toBe(0);
  });
});

/**
 * The vault API as the main thread sees it, without a worker: every method resolves to a
 * Result, error codes survive, and nothing returned holds key bytes (DESIGN.md §1).
 */
import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../src/lib/codec/errors';
import { toResult } from '../../src/lib/vault/result';
import { SELF_TEST_MAX_CHARS } from '../../workers/engine/self-test';
import { VaultApi, VAULT_API_VERSION } from '../../workers/engine/vault-api';

/** True if any value reachable from `v` is binary (a key would be). */
function holdsBytes(v: unknown): boolean {
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return true;
  if (v && typeof v === 'object') return Object.values(v).some(holdsBytes);
  return false;
}

describe('vault API', () => {
  test('ready reports the API version and the loaded libsodium', async () => {
    const r = await new VaultApi().ready();
    expect(r).toEqual({ ok: true, value: { version: VAULT_API_VERSION, sodium: expect.stringMatching(/^\d+\.\d+/) } });
  });

  test('selfTest round-trips unicode text through PQXDH and the ratchet', async () => {
    const text = 'Grüße 🔐 '.repeat(20);
    const r = await new VaultApi().selfTest(text);
    if (!r.ok) throw new Error(`self-test failed: ${r.error.code}`);
    expect(r.value.plaintext).toBe(text);
    expect(r.value.ciphertextBytes).toBeGreaterThan(1088 + new TextEncoder().encode(text).length);
    expect(r.value.safety).toMatch(/^(\d{5} ){11}\d{5}$/);
  });

  test('P31 selfTest returns only the plaintext, the size and the safety number, no bytes', async () => {
    const r = await new VaultApi().selfTest('x');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.value).sort()).toEqual(['ciphertextBytes', 'plaintext', 'safety']);
    expect(holdsBytes(r)).toBe(false);
  });

  test('selfTest refuses text over the limit with a typed code, not a throw', async () => {
    const r = await new VaultApi().selfTest('a'.repeat(SELF_TEST_MAX_CHARS + 1));
    expect(r).toEqual({
      ok: false,
      error: { code: 'InvalidArgument', message: expect.stringContaining(String(SELF_TEST_MAX_CHARS)) }
    });
  });

  test('selfTest accepts text exactly at the limit', async () => {
    const r = await new VaultApi().selfTest('a'.repeat(SELF_TEST_MAX_CHARS));
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

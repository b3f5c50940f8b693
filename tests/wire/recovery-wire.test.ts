/**
 * Recovery wire additions: the retry and resent contents (a restored browser asks a contact to
 * resend what it could not decrypt, naming each message by its ratchet header, P36) and the strict
 * takeover request.
 */
import { describe, expect, test } from 'vitest';
import { decodeTakeoverRequest, encodeTakeoverRequest, isSealedRecordLength } from '../../src/lib/wire/account-record-api';
import { decodeContent, encodeContent, MAX_RETRY_REFS } from '../../src/lib/wire/content';

const ref = (b: number, n: number) => ({ ratchetKey: new Uint8Array(32).fill(b), n });

describe('retry content', () => {
  test('P36 names messages by ratchet header, round-trips and is strict', () => {
    const c = { kind: 'retry', missing: [ref(1, 0), ref(2, 7), ref(3, 0xffff_ffff)] } as const;
    const bytes = encodeContent({ ...c, missing: [...c.missing] });
    expect(decodeContent(bytes)).toEqual({ ...c, missing: [...c.missing] });
    expect(() => decodeContent(new Uint8Array([...bytes, 0]))).toThrow();
    expect(() => decodeContent(bytes.slice(0, -1))).toThrow();
    expect(() => encodeContent({ kind: 'retry', missing: [] })).toThrow(/1\.\.50/);
    expect(() => encodeContent({ kind: 'retry', missing: Array.from({ length: MAX_RETRY_REFS + 1 }, (_, i) => ref(1, i)) })).toThrow();
    expect(() => encodeContent({ kind: 'retry', missing: [{ ratchetKey: new Uint8Array(31), n: 1 }] })).toThrow();
    expect(() => encodeContent({ kind: 'retry', missing: [ref(1, -1)] })).toThrow();
  });

  test('P36 the retired retry by time ("everything since") is refused, never honoured', () => {
    const old = new Uint8Array([1, 0x04, ...new Uint8Array(8), 0, 1, ...new Uint8Array(8)]);
    expect(() => decodeContent(old)).toThrow(expect.objectContaining({ code: 'UnsupportedVersion' }));
  });

  test('P36 a resent text carries the ref it answers', () => {
    const c = { kind: 'resent', ref: ref(9, 3), id: 'ab'.repeat(16), sentAt: 1_795_000_000_000, text: 'again 🔁' } as const;
    const bytes = encodeContent(c);
    expect(decodeContent(bytes)).toEqual(c);
    expect(() => decodeContent(bytes.slice(0, -1))).toThrow();
  });
});

describe('takeover request', () => {
  const login = { username: 'alice', challenge: new Uint8Array(32).fill(1), signature: new Uint8Array(64).fill(2), device: new Uint8Array(32).fill(3) };
  const sp = { id: 7, publicKey: new Uint8Array(32).fill(4), signature: new Uint8Array(64).fill(5) };
  const lastResort = { id: 8, lastResort: true, publicKey: new Uint8Array(1184).fill(6), signature: new Uint8Array(64).fill(7) };

  const proof = new Uint8Array(64).fill(9);

  test('needs a device secret, a signed prekey, exactly one last-resort KEM prekey and a proof of the master secret', () => {
    const ok = encodeTakeoverRequest({ login, prekeys: { signedPreKey: sp, oneTimePreKeys: [], kemPreKeys: [lastResort] }, proof });
    expect(decodeTakeoverRequest(JSON.parse(JSON.stringify(ok))).login.device).toEqual(login.device);
    const { device: _d, ...noDevice } = login;
    void _d;
    expect(decodeTakeoverRequest(JSON.parse(JSON.stringify(ok))).proof).toEqual(proof);
    expect(() => decodeTakeoverRequest(encodeTakeoverRequest({ login: noDevice, prekeys: { signedPreKey: sp, oneTimePreKeys: [], kemPreKeys: [lastResort] }, proof }))).toThrow(/device/);
    expect(() => decodeTakeoverRequest(encodeTakeoverRequest({ login, prekeys: { oneTimePreKeys: [], kemPreKeys: [lastResort] }, proof }))).toThrow(/signed prekey/);
    expect(() => decodeTakeoverRequest(encodeTakeoverRequest({ login, prekeys: { signedPreKey: sp, oneTimePreKeys: [], kemPreKeys: [] }, proof }))).toThrow(/last-resort/);
    expect(() => decodeTakeoverRequest({ ...ok, extra: 1 })).toThrow(/unexpected/);
    // P37: no proof, or one of the wrong size, is refused before anything else is looked at.
    const { proof: _p, ...noProof } = ok;
    void _p;
    expect(() => decodeTakeoverRequest(noProof)).toThrow(/proof of the master secret/);
    expect(() => decodeTakeoverRequest({ ...ok, proof: 'AAAA' })).toThrow(/proof of 3 bytes/);
  });

  test('P26 only bucket sizes are sealed-record lengths', () => {
    expect(isSealedRecordLength(1 + 24 + 1024 + 16)).toBe(true);
    expect(isSealedRecordLength(1 + 24 + 4096 + 16)).toBe(true);
    expect(isSealedRecordLength(1 + 24 + 1000 + 16)).toBe(false);
    expect(isSealedRecordLength(1 + 24 + 512 + 16)).toBe(false);
    expect(isSealedRecordLength(1 + 24 + 4 * 1024 * 1024 + 16)).toBe(false);
  });
});

/**
 * libsodium-wrappers' temporaries are zeroed when freed (src/lib/crypto/sodium.ts): after a call,
 * the wasm heap holds no copy of what went in or came out — a message text, a message key, a
 * passphrase — so wiping our own keys at a lock (README "In memory after a lock") is not undone by
 * copies the wrappers left behind. Each test also shows, just before the wrappers free their
 * blocks, that the secret WAS in the heap: the check can see a copy when there is one.
 */
import { describe, expect, test } from 'vitest';
import { aeadDecrypt, aeadEncrypt } from '../../src/lib/crypto/primitives';
import { sodium, type RawHeap } from '../../src/lib/crypto/sodium';

const raw = (): RawHeap => (sodium() as unknown as { libsodium: RawHeap }).libsodium;

/** True if `needle` occurs anywhere in `heap`. */
function holds(heap: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0]!;
  for (let i = heap.indexOf(first); i !== -1 && i <= heap.length - needle.length; i = heap.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && heap[i + k] === needle[k]) k++;
    if (k === needle.length) return true;
  }
  return false;
}

/** A recognisable secret that occurs nowhere by chance. */
const secret = (tag: string, len = 48): Uint8Array => {
  const out = new Uint8Array(len);
  crypto.getRandomValues(out);
  out.set(new TextEncoder().encode(tag).subarray(0, len));
  return out;
};

/**
 * Runs `f` while watching the wrappers' frees: answers whether any of `needles` was in the heap
 * at some free (the secret went in), and whether any still is afterwards.
 */
function watch(needles: Uint8Array[], f: () => void): { inDuringCall: boolean; leftAfter: boolean } {
  const lib = raw();
  const free = lib._free;
  let inDuringCall = false;
  lib._free = (ptr: number) => {
    if (!inDuringCall) inDuringCall = needles.some((n) => holds(lib.HEAPU8, n));
    free(ptr);
  };
  try {
    f();
  } finally {
    lib._free = free;
  }
  return { inDuringCall, leftAfter: needles.some((n) => holds(raw().HEAPU8, n)) };
}

describe('libsodium temporaries', () => {
  test('a block freed through the raw module is zeroed: its bytes are gone from the heap', () => {
    const lib = raw();
    const mark = secret('parley-heap-mark');
    const p = lib._malloc(mark.length);
    lib.HEAPU8.set(mark, p);
    expect(holds(lib.HEAPU8, mark)).toBe(true);
    lib._free(p);
    // The allocator writes its free-list links at the block's start; the rest would survive it.
    expect(holds(lib.HEAPU8, mark.subarray(16))).toBe(false);
  });

  test('hundreds of blocks live at once, freed in any order, are each zeroed', () => {
    const lib = raw();
    const blocks = Array.from({ length: 600 }, (_, i) => {
      const mark = secret(`block ${i} `, 40);
      const p = lib._malloc(mark.length);
      lib.HEAPU8.set(mark, p);
      return { p, mark };
    });
    // A fixed shuffle: newest, oldest and middle blocks interleaved.
    const order = blocks.map((_, i) => i).sort((a, b) => ((a * 7919) % 600) - ((b * 7919) % 600));
    for (const i of order) lib._free(blocks[i]!.p);
    for (const { mark } of blocks) expect(holds(lib.HEAPU8, mark.subarray(16))).toBe(false);
  });

  test('an AEAD encryption and decryption of a message text leave neither the text nor the key in the heap', () => {
    const text = secret('a message text that must not outlive its call', 200);
    const key = secret('message key', 32);
    const nonce = new Uint8Array(24);
    const ad = new Uint8Array(8);
    let ct: Uint8Array = new Uint8Array(0);
    const enc = watch([text.subarray(16), key.subarray(8)], () => {
      ct = aeadEncrypt(key, nonce, text, ad);
    });
    expect(enc).toEqual({ inDuringCall: true, leftAfter: false });
    let back: Uint8Array = new Uint8Array(0);
    const dec = watch([text.subarray(16), key.subarray(8)], () => {
      back = aeadDecrypt(key, nonce, ct, ad);
    });
    expect(dec).toEqual({ inDuringCall: true, leftAfter: false });
    expect(back).toEqual(text);
  });

  test('a passphrase stretched with Argon2id and a signing key used once leave no copy in the heap', () => {
    const s = sodium();
    const passphrase = secret('correct horse battery staple, kept from the heap', 64);
    const salt = new Uint8Array(s.crypto_pwhash_SALTBYTES);
    const stretch = watch([passphrase.subarray(16)], () => {
      s.crypto_pwhash(32, passphrase, salt, 1, 8 * 1024, s.crypto_pwhash_ALG_ARGON2ID13);
    });
    expect(stretch).toEqual({ inDuringCall: true, leftAfter: false });
    const { privateKey } = s.crypto_sign_keypair();
    const sign = watch([privateKey.subarray(0, 32)], () => {
      s.crypto_sign_detached(secret('signed'), privateKey);
    });
    expect(sign).toEqual({ inDuringCall: true, leftAfter: false });
  });
});

/**
 * Release tokens for attachment blobs (src/lib/crypto/blob-release.ts; wire/blob-api.ts): checked
 * against an independent computation with Node's own HKDF, HMAC and SHA-256 (RFC 5869), one token
 * per recipient and per file, and the listed hash is the SHA-256 of exactly the token a recipient
 * posts (P40: the host matches them without learning who posted).
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { toHex } from '../../src/lib/codec/bytes';
import { releaseHashes, releaseToken } from '../../src/lib/crypto/blob-release';

const key = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 1);

function nodeToken(fileKey: Uint8Array, username: string): Buffer {
  const releaseKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'Parley blob release v1', 32));
  return createHmac('sha256', releaseKey).update(username, 'utf8').digest();
}

describe('blob release tokens', () => {
  test('P40 a token is HMAC-SHA256 under HKDF(file key), as Node computes it; its hash is what the uploader lists', () => {
    for (const u of ['bob', 'ann', 'zoë_99']) {
      expect(toHex(releaseToken(key, u))).toBe(nodeToken(key, u).toString('hex'));
    }
    const hashes = releaseHashes(key, ['bob', 'ann']);
    const expected = ['bob', 'ann'].map((u) => createHash('sha256').update(nodeToken(key, u)).digest('hex')).sort();
    expect(hashes).toEqual(expected);
  });

  test('P40 tokens differ per recipient and per file; a hash is never its token; the list is distinct and sorted', () => {
    const other = key.map((b) => b ^ 0x80);
    expect(toHex(releaseToken(key, 'bob'))).not.toBe(toHex(releaseToken(key, 'ann')));
    expect(toHex(releaseToken(key, 'bob'))).not.toBe(toHex(releaseToken(other, 'bob')));
    expect(releaseHashes(key, ['bob'])).not.toContain(toHex(releaseToken(key, 'bob')));
    const list = releaseHashes(key, ['cat', 'bob', 'cat', 'ann']);
    expect(list).toHaveLength(3);
    expect([...list].sort()).toEqual(list);
    expect(list.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(releaseHashes(key, [])).toEqual([]);
  });
});

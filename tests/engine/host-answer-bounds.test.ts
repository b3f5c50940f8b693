/**
 * What a host's answer may make the client hold (host-fetch.ts `readBody`): every body the client
 * reads from the host, or from a realm, is read up to the longest of its kind and refused past it,
 * by its Content-Length or while reading, never held whole. The paths the client takes by itself
 * matter most: a group sync's blob (P19), a profile refresh (P43), a realm's answer (P38).
 */
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { isCodedError } from '../../src/lib/codec/errors';
import { MAX_PROFILE_BLOB_LEN } from '../../src/lib/crypto/profile';
import { MAX_GROUP_BLOB_BYTES } from '../../src/lib/wire/group-api';
import { MAX_RESPONSE_LEN } from '../../src/lib/wire/realm-api';
import { answerJson, MAX_JSON_ANSWER_BYTES, readBody } from '../../workers/engine/host-fetch';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { httpProfiles } from '../../workers/engine/profile-transport';
import { callRealm } from '../../workers/engine/recovery/realm-client';

const CHUNK = 64 * 1024;

/** An endless body of CHUNK-byte chunks; `pulled` counts the bytes handed out. */
function endless(headers: Record<string, string> = {}) {
  const seen = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      seen.pulled += CHUNK;
      c.enqueue(new Uint8Array(CHUNK).fill(7));
    }
  });
  return { seen, res: () => new Response(body, { status: 200, headers }) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isCodedError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('bounded reads of host answers', () => {
  test('a body within the bound comes back whole, in one chunk or many', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => i & 0xff);
    expect(await readBody(new Response(bytes), bytes.length, 'x')).toEqual(bytes);
    const parts = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.length; at += 70_000) c.enqueue(bytes.slice(at, at + 70_000));
        c.close();
      }
    });
    expect(await readBody(new Response(parts), bytes.length, 'x')).toEqual(bytes);
    expect(await readBody(new Response(null, { status: 204 }), 10, 'x')).toEqual(new Uint8Array(0));
  });

  test('an endless body is refused after the bound and one chunk; a declared length past it is refused unread', async () => {
    const { seen, res } = endless();
    expect(await codeOf(readBody(res(), 1_000_000, 'x'))).toBe('DecodeFailed');
    expect(seen.pulled).toBeLessThanOrEqual(1_000_000 + 2 * CHUNK);
    const declared = endless({ 'content-length': String(2_000_000) });
    expect(await codeOf(readBody(declared.res(), 1_000_000, 'x'))).toBe('DecodeFailed');
    expect(declared.seen.pulled).toBeLessThanOrEqual(CHUNK);
  });

  test('a body cut off is Unavailable; JSON past its bound is refused, a body that is not JSON is none', async () => {
    let n = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ > 2) c.error(new Error('reset'));
        else c.enqueue(new Uint8Array(10));
      }
    });
    expect(await codeOf(readBody(new Response(broken), 1000, 'x'))).toBe('Unavailable');
    expect(await codeOf(answerJson(endless().res()))).toBe('DecodeFailed');
    expect(await answerJson(new Response('not json'))).toBeUndefined();
    expect(await answerJson(new Response(JSON.stringify({ ok: 1 })))).toEqual({ ok: 1 });
    expect(MAX_JSON_ANSWER_BYTES).toBeGreaterThanOrEqual(64 * 1024);
  });

  test('P19 P43 P38 a hostile answer to a group blob, a profile or a realm call is refused after its bound, not held', async () => {
    const group = endless();
    const t = new HostHttpTransport('http://127.0.0.1:9', WebSocket as unknown as WsCtor, () => Promise.resolve(group.res()));
    expect(await codeOf(t.getGroupBlob(new Uint8Array(32)))).toBe('DecodeFailed');
    expect(group.seen.pulled).toBeLessThanOrEqual(MAX_GROUP_BLOB_BYTES + 2 * CHUNK);

    const profile = endless();
    const p = httpProfiles('http://127.0.0.1:9', () => Promise.resolve(profile.res()));
    expect(await codeOf(p.get(new Uint8Array(32)))).toBe('DecodeFailed');
    expect(profile.seen.pulled).toBeLessThanOrEqual(MAX_PROFILE_BLOB_LEN + 2 * CHUNK);

    const realm = endless();
    const answer = await callRealm({ id: new Uint8Array(16), url: 'http://127.0.0.1:9/realm' }, { op: 'status', realmId: new Uint8Array(16), userId: new Uint8Array(16) }, () => Promise.resolve(realm.res()));
    expect(answer).toBeUndefined();
    // It was read (the request encoded and sent), and not past the bound and a chunk.
    expect(realm.seen.pulled).toBeGreaterThan(0);
    expect(realm.seen.pulled).toBeLessThanOrEqual(MAX_RESPONSE_LEN + 2 * CHUNK);
  });
});

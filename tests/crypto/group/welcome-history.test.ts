/**
 * A welcome's history under the ratchet's bound (README "Groups": group info; SECURITY.md P19).
 * Group pictures ride inline in the state (limits.ts MAX_AVATAR_BYTES), so a large group whose kept
 * path holds several picture changes can outgrow a welcome (wire/group-content.ts
 * MAX_HISTORY_BYTES): the welcome then carries the head alone as its anchor, which the newcomer
 * rebuilds to the very same state (same hash, same picture).
 */
import { describe, expect, test } from 'vitest';
import { receiveChange, startHistory, type GroupHistory } from '../../../src/lib/crypto/group/group-history';
import { decodeGroupHistory, encodeGroupHistory, encodeWelcomeHistory } from '../../../src/lib/crypto/group/group-history-codec';
import { stateHash } from '../../../src/lib/crypto/group/group-state-codec';
import { createGenesis } from '../../../src/lib/crypto/group/group-state';
import { MAX_ACTIONS, MAX_AVATAR_BYTES, MAX_MEMBERS } from '../../../src/lib/crypto/group/limits';
import { seededDeps } from '../../../src/lib/crypto/deps';
import { MAX_HISTORY_BYTES } from '../../../src/lib/wire/group-content';
import { add, change, person, pub } from './fixtures';

const ann = person('ann');

function picture(n: number): Uint8Array {
  const a = new Uint8Array(MAX_AVATAR_BYTES).fill(n);
  a.set([0xff, 0xd8, 0xff], 0);
  a.set([0xff, 0xd9], MAX_AVATAR_BYTES - 2);
  return a;
}

describe('welcome history', () => {
  test('P19 a full group with seven picture changes on its path is welcomed with its head as anchor, rebuilt to the same state', () => {
    let h: GroupHistory = startHistory(createGenesis({ creator: { address: ann.address, identity: pub(ann) }, name: 'Big' }, seededDeps('welcome')));
    const others = Array.from({ length: MAX_MEMBERS - 1 }, (_, i) => person(`m${String(i).padStart(4, '0')}`));
    for (let i = 0; i < others.length; i += MAX_ACTIONS) h = receiveChange(h, change(h.head, ann, ...others.slice(i, i + MAX_ACTIONS).map((p) => add(p)))).history;
    // A small group's path fits as it is.
    expect(encodeWelcomeHistory(h, MAX_HISTORY_BYTES)).toEqual(encodeGroupHistory(h, { branches: false }));
    for (let n = 1; n <= 7; n++) h = receiveChange(h, change(h.head, ann, { type: 'setAvatar', avatar: picture(n) })).history;
    expect(encodeGroupHistory(h, { branches: false }).length).toBeGreaterThan(MAX_HISTORY_BYTES);

    const welcome = encodeWelcomeHistory(h, MAX_HISTORY_BYTES);
    expect(welcome.length).toBeLessThanOrEqual(MAX_HISTORY_BYTES);
    const rebuilt = decodeGroupHistory(welcome);
    expect(rebuilt.head.members).toHaveLength(MAX_MEMBERS);
    expect(rebuilt.head.avatar).toEqual(picture(7));
    expect(stateHash(rebuilt.head)).toEqual(stateHash(h.head));
    // The next change anyone signs against the head applies for the newcomer too.
    const next = change(h.head, ann, { type: 'setName', name: 'Bigger' });
    expect(receiveChange(rebuilt, next).history.head.name).toBe('Bigger');
  });
});

/**
 * A flood of group envelopes under keys nobody was given (README "Groups"; P19), on the REAL host:
 * a member's modified client (or the host, which can forge the same envelope) names a member and
 * a fresh distribution id, again and again. Each such envelope asks the receiver to fetch the
 * group's blob; the gate (workers/engine/group-sync-gate.ts) turns the flood into one fetch per
 * quiet spell, and the receiver still reads the member's real messages.
 */
import { describe, expect, test } from 'vitest';
import { address } from '../../src/lib/crypto/group/address';
import { createSenderKey, groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { fromHex } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { encodeContent } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import { hostAuth } from '../../workers/engine/account';
import { SYNC_QUIET_MIN_MS } from '../../workers/engine/group-sync-gate';
import { getGroup } from '../../workers/storage/group-repo';
import { eventually } from './real-host-support';
import { groupActionHost, textOf } from './group-actions-support';

const { trio } = groupActionHost('parley-gsync-flood-');

describe('a flood of envelopes under unknown sender keys', () => {
  test('P19 fifty envelopes naming a member under fresh keys cost one blob fetch per quiet spell, and real messages still land', async () => {
    const { id, ben, cat } = await trio();
    // Ben's clock stands still unless the test moves it, so the quiet spells do not depend on this machine's speed.
    const clock = { at: Date.now() };
    ben.ctx.deps = { ...ben.ctx.deps, now: () => clock.at };
    let fetches = 0;
    const transport = ben.ctx.transport;
    const get = transport.getGroupBlob!.bind(transport);
    transport.getGroupBlob = (addr) => {
      fetches++;
      return get(addr);
    };
    const g = (await getGroup(cat.ctx.vault, id))!;
    const forged = () => {
      const key = createSenderKey({ groupId: fromHex(id), ourAddress: address(cat.ctx.me!.username) }, cat.ctx.deps);
      const plain = encodeGroupText({ headVersion: g.history.head.version, headHash: stateHash(g.history.head), content: encodeContent({ kind: 'text', id: crypto.randomUUID().replaceAll('-', ''), text: 'forged', sentAt: Date.now() }) });
      return groupEncrypt(key.state, plain).message;
    };
    let failed = 0;
    const flood = async (n: number, marker: string) => {
      for (let i = 0; i < n; i++) await cat.ctx.transport.groupSend!(hostAuth(cat.ctx.me!), ['ben' as Username], forged());
      await cat.sendGroupText(id, marker);
      await eventually(async () => void (await textOf(ben, id, marker)));
      // Each was recorded as a failure before the marker was read; a sync one started runs after
      // its ack, so give it a moment to reach the host before counting.
      failed += n;
      expect(await ben.ctx.vault.db.count('failures')).toBe(failed);
      await new Promise((r) => setTimeout(r, 300));
    };
    await flood(50, 'after the first flood');
    await eventually(() => expect(fetches).toBe(1));
    // Within the spell: nothing more. At its end: one more, and the next spell is twice as long.
    clock.at += SYNC_QUIET_MIN_MS - 1;
    await flood(10, 'inside the spell');
    expect(fetches).toBe(1);
    clock.at += 1;
    await flood(10, 'after the spell');
    await eventually(() => expect(fetches).toBe(2));
    clock.at += SYNC_QUIET_MIN_MS;
    await flood(10, 'inside the doubled spell');
    expect(fetches).toBe(2);
  });
});

/**
 * A member who joins a group while a file goes up (README "Groups": files in groups; wire/blob-api.ts
 * recipients), through engines on the REAL host: the blob was created listing the members of that
 * moment, so the sender lists the newcomer too before the pointer goes. The first member's release
 * then leaves the blob on the host for the newcomer, who opens exactly the bytes, and the blob goes
 * once they released it too. Without the added listing the host would delete the blob at the first
 * release and the newcomer would find it gone.
 */
import 'fake-indexeddb/auto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bytesEqual } from '../../src/lib/codec/bytes';
import type { Username } from '../../src/lib/codec/username';
import { BLOBS_DIR } from '../../src/host/storage/sqlite-blobs';
import type { Engine } from '../../workers/engine/engine';
import type { HostHttpTransport } from '../../workers/engine/host-transport';
import { groupOwner } from '../../workers/storage/file-repo';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { enginesOnRealHost, eventually } from './real-host-support';
import { fileBytes } from './support';

const { real, user } = enginesOnRealHost('parley-gjoin-');
const blobs = () => readdirSync(join(real.dataDir, BLOBS_DIR));

interface Gate {
  hold?: Promise<void>;
  held: boolean;
  added: number[];
  /** Runs once, after a recipient addition is answered and before the vault goes on. */
  between?: () => Promise<void>;
}

/**
 * Holds the uploader's part PUTs while `gate.hold` is set, counts the recipient additions, and
 * runs `gate.between` after the first one: a group state that arrives between the listing and
 * the send transaction.
 */
function gated(gate: Gate) {
  return (t: HostHttpTransport) => {
    const inner = t.authedFetch!.bind(t);
    t.authedFetch = async (auth, path, init) => {
      if (init?.method === 'PUT' && gate.hold) {
        gate.held = true;
        await gate.hold;
      }
      const res = await inner(auth, path, init);
      if (path.endsWith('/recipients')) {
        gate.added.push(res.status);
        const between = gate.between;
        gate.between = undefined;
        await between?.();
      }
      return res;
    };
  };
}

async function fileIn(e: Engine, id: string, name: string): Promise<GroupMessageView> {
  let m: GroupMessageView | undefined;
  await eventually(async () => {
    m = (await e.listGroupMessages(id)).find((x) => x.kind === 'text' && x.attachment?.name === name);
    expect(m).toBeDefined();
  });
  return m!;
}

describe('a member who joined while the file went up', () => {
  test('P40 is listed before the pointer goes: the first release leaves the blob for them, and it goes after theirs', async () => {
    const gate: Gate = { held: false, added: [] };
    const ann = await user('ann', { wrap: gated(gate) });
    const ben = await user('ben');
    const cat = await user('cat');
    const id = await ann.createGroup('Trip', '', ['ben' as Username]);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));

    let go = (): void => undefined;
    gate.hold = new Promise<void>((r) => (go = r));
    const bytes = Uint8Array.from({ length: 1_500_000 }, (_, i) => (i * 7 + 3) & 0xff);
    const sending = ann.sendGroupAttachment(id, { bytes, name: 'late.bin', mime: '', transfer: 't' });
    // The blob exists on the host, listing ben only; its first part waits while cat joins.
    await eventually(() => expect(gate.held).toBe(true));
    await ann.addGroupMembers(id, ['cat' as Username]);
    await eventually(async () => expect((await cat.groupInfo(id)).members).toHaveLength(3));
    gate.hold = undefined;
    go();
    await sending;
    expect(gate.added).toEqual([204]);

    const forBen = await fileIn(ben, id, 'late.bin');
    expect(bytesEqual(await fileBytes((await ben.openGroupAttachment(id, forBen.id, 'd')).bytes), bytes)).toBe(true);
    await eventually(async () => expect(await ben.ctx.vault.db.get('files', [groupOwner(forBen.id), -1])).toMatchObject({ released: true }));
    // Ben's release struck his hash; cat's is still listed, so the blob stays.
    expect(blobs()).toHaveLength(1);
    const forCat = await fileIn(cat, id, 'late.bin');
    expect(bytesEqual(await fileBytes((await cat.openGroupAttachment(id, forCat.id, 'd')).bytes), bytes)).toBe(true);
    await eventually(() => expect(blobs()).toEqual([]));
  });

  test('P40 one who joins after the listing but before the send transaction is listed too, in another round, and finds the file', async () => {
    const gate: Gate = { held: false, added: [] };
    const ann = await user('ann', { wrap: gated(gate) });
    const ben = await user('ben');
    const cat = await user('cat');
    const dan = await user('dan');
    const id = await ann.createGroup('Late', '', ['ben' as Username]);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    let go = (): void => undefined;
    gate.hold = new Promise<void>((r) => (go = r));
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 11 + 5) & 0xff);
    const sending = ann.sendGroupAttachment(id, { bytes, name: 'later.bin', mime: '', transfer: 't' });
    await eventually(() => expect(gate.held).toBe(true));
    await ann.addGroupMembers(id, ['cat' as Username]);
    // Cat's listing is answered; before the vault commits the message, dan comes in.
    gate.between = () => ann.addGroupMembers(id, ['dan' as Username]);
    gate.hold = undefined;
    go();
    expect((await sending).kind).toBe('text');
    // One listing for cat, one more for dan in the round after the first send transaction saw him.
    expect(gate.added).toEqual([204, 204]);
    await eventually(async () => expect((await dan.groupInfo(id)).members).toHaveLength(4));
    // Ben and cat release; the blob stays for dan, who opens exactly the bytes, and then it goes.
    for (const e of [ben, cat]) {
      const v = await fileIn(e, id, 'later.bin');
      expect(bytesEqual(await fileBytes((await e.openGroupAttachment(id, v.id, 'd')).bytes), bytes)).toBe(true);
      await eventually(async () => expect(await e.ctx.vault.db.get('files', [groupOwner(v.id), -1])).toMatchObject({ released: true }));
    }
    expect(blobs()).toHaveLength(1);
    const forDan = await fileIn(dan, id, 'later.bin');
    expect(bytesEqual(await fileBytes((await dan.openGroupAttachment(id, forDan.id, 'd')).bytes), bytes)).toBe(true);
    await eventually(() => expect(blobs()).toEqual([]));
  });

  test('no one new: nothing is added', async () => {
    const gate: Gate = { held: false, added: [] };
    const ann = await user('ann', { wrap: gated(gate) });
    const ben = await user('ben');
    const id = await ann.createGroup('Pair', '', ['ben' as Username]);
    await eventually(async () => expect((await ben.groupInfo(id)).members).toHaveLength(2));
    await ann.sendGroupAttachment(id, { bytes: Uint8Array.of(1, 2, 3), name: 'x.bin', mime: '', transfer: 't' });
    expect(gate.added).toEqual([]);
  });
});

/**
 * README "Groups": message actions, P47 and P21: a group message deleted for everyone while its
 * upload still waits (the host was out of reach) never leaves. The upload is taken out of the
 * queue and the delete names the withdrawn iteration, so members, whose chains then jump over
 * it, count nothing missing. (A flush and a delete both run in the driver's serial queue, so a
 * flush never holds a list the delete changed.) Controls: a message the host really withholds is still counted missing, and a delete
 * whose withdrawn iteration an earlier message already jumped leaves that count as shown.
 * Real host; ann's uploads fail while `gate.down`, and vanish (a withholding host) while `gate.drop`.
 */
import { describe, expect, test } from 'vitest';
import { engineFail } from '../../workers/engine/errors';
import { getGroup } from '../../workers/storage/group-repo';
import { hostAuth } from '../../workers/engine/account';
import type { Engine } from '../../workers/engine/engine';
import type { HostTransport } from '../../workers/engine/transport';
import { jumpedWithdrawn } from '../../workers/engine/group-withdraw';
import type { TheirSenderKey } from '../../src/lib/crypto/group/sender-key';
import { eventually } from './real-host-support';
import { groupActionHost, textOf, texts } from './group-actions-support';

const { trio } = groupActionHost('parley-gdelete-unsent-');

interface Gate {
  down: boolean;
  drop: boolean;
  /** Uploads that reached the host. */
  sent: number;
}

/** Routes `e`'s group uploads (plain and sealed fan-out) through `gate`. */
function gated(e: Engine): Gate {
  const gate: Gate = { down: false, drop: false, sent: 0 };
  const t: HostTransport = e.ctx.transport;
  const through = async <T>(go: () => Promise<T>, none: T): Promise<T> => {
    if (gate.down) engineFail('Unavailable', 'host out of reach');
    if (gate.drop) return none;
    gate.sent++;
    return go();
  };
  const groupSend = t.groupSend!.bind(t);
  const sendSealedMulti = t.sendSealedMulti!.bind(t);
  t.groupSend = (...a) => through(() => groupSend(...a), undefined);
  t.sendSealedMulti = (...a) => through(() => sendSealedMulti(...a), undefined);
  return gate;
}

const missing = async (e: Engine, id: string) => (await e.listGroups()).find((g) => g.id === id)!.missing;
const queued = async (e: Engine, id: string) => (await getGroup(e.ctx.vault, id))!.outgoing.length;

async function idOf(e: Engine, id: string, body: string): Promise<string> {
  return (await textOf(e, id, body)).id;
}

describe('a group message deleted for everyone before it left', () => {
  test('P47 P21 a queued upload is withdrawn: no member ever sees it, and none counts it missing', async () => {
    const { id, ann, ben, cat } = await trio();
    const gate = gated(ann);
    gate.down = true;
    await ann.sendGroupText(id, 'secret draft');
    await eventually(async () => expect(gate.down && (await queued(ann, id))).toBe(1));
    const draft = (await getGroup(ann.ctx.vault, id))!.outgoing[0]!;
    await ann.deleteGroupMessageForEveryone(id, await idOf(ann, id, 'secret draft'));
    expect(await queued(ann, id)).toBe(1); // the delete only
    gate.down = false;
    await ann.sendGroupText(id, 'after');
    for (const p of [ben, cat]) await eventually(async () => expect(await texts(p, id)).toContain('after'));
    expect(gate.sent).toBe(2); // the delete and "after"; never the draft
    for (const p of [ben, cat]) {
      expect(await texts(p, id)).not.toContain('secret draft');
      expect(await missing(p, id)).toBe(0);
    }
    expect(await texts(ann, id)).toEqual(['hello', 'from ben', 'from cat', '(deleted)', 'after']);
    // Then the host really swallows one: counted missing.
    gate.drop = true;
    await ann.sendGroupText(id, 'swallowed');
    await eventually(async () => expect(await queued(ann, id)).toBe(0));
    gate.drop = false;
    await ann.sendGroupText(id, 'next');
    for (const p of [ben, cat]) await eventually(async () => expect(await missing(p, id)).toBe(1));
    // The withdrawn upload arriving after all (a lying sender, or an earlier attempt the host kept
    // and hands over late): its kept key went with the jump, so it is refused, shows nothing, and
    // cannot take back the count of the message the host did swallow.
    await ann.ctx.transport.groupSend!(hostAuth(ann.ctx.me!), draft.to, draft.body);
    await ann.sendGroupText(id, 'last');
    for (const p of [ben, cat]) {
      await eventually(async () => expect(await texts(p, id)).toContain('last'));
      expect(await texts(p, id)).toEqual(['hello', 'from ben', 'from cat', 'after', 'next', 'last']);
      expect(await missing(p, id)).toBe(1);
    }
  });

  test('P21 controls: an upload the host withholds is counted missing; a jump an earlier message showed stays counted', async () => {
    const { id, ann, ben } = await trio();
    const gate = gated(ann);
    // The host swallows one upload: ben's chain jumps it when the next arrives.
    gate.drop = true;
    await ann.sendGroupText(id, 'withheld by the host');
    await eventually(async () => expect(await queued(ann, id)).toBe(0));
    gate.drop = false;
    await ann.sendGroupText(id, 'next');
    await eventually(async () => expect(await texts(ben, id)).toContain('next'));
    expect(await missing(ben, id)).toBe(1);
    // A queued upload, then a text, then its delete: the text shows the jump first, and it stays shown.
    gate.down = true;
    await ann.sendGroupText(id, 'draft');
    await eventually(async () => expect(await queued(ann, id)).toBe(1));
    await ann.sendGroupText(id, 'between');
    await ann.deleteGroupMessageForEveryone(id, await idOf(ann, id, 'draft'));
    gate.down = false;
    ann.ctx.kickOutbox();
    await eventually(async () => expect(await queued(ann, id)).toBe(0));
    await ann.sendGroupText(id, 'last');
    await eventually(async () => expect(await texts(ben, id)).toContain('last'));
    expect(await texts(ben, id)).not.toContain('draft');
    expect(await missing(ben, id)).toBe(2);
  });
});

describe('which jump a withdrawn reference accounts for', () => {
  const signingKey = new Uint8Array(32).fill(1);
  const their = { signingKey, iteration: 10 } as unknown as TheirSenderKey;
  test('P21 only an iteration this decryption jumped, in the sender\'s own chain', () => {
    // The delete is iteration 12: it jumped 10 and 11.
    expect(jumpedWithdrawn(their, 12, { ratchetKey: signingKey, n: 10 })).toBe(true);
    expect(jumpedWithdrawn(their, 12, { ratchetKey: signingKey, n: 11 })).toBe(true);
    // Already received or already counted missing (before 10), the delete itself, or ahead of it.
    expect(jumpedWithdrawn(their, 12, { ratchetKey: signingKey, n: 9 })).toBe(false);
    expect(jumpedWithdrawn(their, 12, { ratchetKey: signingKey, n: 12 })).toBe(false);
    expect(jumpedWithdrawn(their, 12, { ratchetKey: signingKey, n: 13 })).toBe(false);
    // Another member's chain (their key), or a rotated one of the sender's: never.
    expect(jumpedWithdrawn(their, 12, { ratchetKey: new Uint8Array(32).fill(2), n: 10 })).toBe(false);
    expect(jumpedWithdrawn(their, 12, undefined)).toBe(false);
  });
});

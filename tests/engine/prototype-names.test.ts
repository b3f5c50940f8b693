/**
 * Usernames are data, never property names: `[a-z0-9_.]{3,32}` admits "constructor" and
 * "__proto__", which a plain object answers for on its own (`"constructor" in {}` is true). The
 * outbox once kept the recipients it held back in such an object, and so skipped every message
 * to "constructor" as "held" before trying it. Three people with such names message, reply and
 * get receipts through the real host, and the chat list names each once.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { enginesOnRealHost, eventually, reactionsAsSets, texts } from './real-host-support';
import { statusOf } from './support';
import { commit } from '../../workers/storage/vault';
import { txGetGroup } from '../../workers/storage/group-repo';
import { v3SealKeys } from '../../workers/engine/group-seal-keys';

const { user } = enginesOnRealHost('parley-prototype-names-');

describe('usernames that are Object.prototype names', () => {
  test('"constructor", "__proto__" and "hasownproperty" send, receive, reply and are listed', async () => {
    const names = ['constructor', '__proto__', 'hasownproperty'] as const;
    const alice = await user('alice');
    const people = await Promise.all(names.map((n) => user(n)));
    const sent = new Map<string, string>();
    for (const n of names) sent.set(n, (await alice.sendText(n, `hello ${n}`)).id);
    for (const [i, n] of names.entries()) {
      await eventually(async () => expect(await texts(people[i]!, 'alice')).toEqual([`hello ${n}`]));
      await people[i]!.sendText('alice', `hi alice from ${n}`);
    }
    for (const n of names) {
      await eventually(async () => expect(await texts(alice, n)).toEqual([`hello ${n}`, `hi alice from ${n}`]));
      await eventually(async () => expect(statusOf(await alice.listMessages(n), sent.get(n)!)).toMatch(/^(delivered|read)$/));
    }
    expect((await alice.listChats()).map((c) => c.username).sort()).toEqual([...names].sort());
    const routes = await alice.chatRoutes(names.map((n) => asUsername(n)));
    for (const [i, n] of names.entries()) expect(await alice.openChatRoute(routes[i]!)).toBe(n);

    // Reactions are kept per person: each one's own entry, changed and taken back.
    /** The id of alice's `hello` as `i` holds it. */
    const theirId = async (i: number) => (await people[i]!.listMessages('alice')).find((m) => m.kind === 'text' && m.text === `hello ${names[i]}`)!.id;
    for (const i of names.keys()) await people[i]!.react(asUsername('alice'), await theirId(i), '👍');
    const reactionsOn = async (n: string) => {
      const m = (await alice.listMessages(n)).find((x) => x.id === sent.get(n));
      return m?.kind === 'text' ? m.reactions : undefined;
    };
    for (const n of names) await eventually(async () => expect(await reactionsOn(n)).toEqual([{ emoji: '👍', count: 1, mine: false }]));
    await people[1]!.react(asUsername('alice'), await theirId(1), '🎉');
    await eventually(async () => expect(await reactionsOn('__proto__')).toEqual([{ emoji: '🎉', count: 1, mine: false }]));
    await people[1]!.react(asUsername('alice'), await theirId(1), '');
    await eventually(async () => expect(await reactionsOn('__proto__')).toBeUndefined());
  });

  test('a group of "constructor" and "__proto__": sealed with seal keys for each, reactions from each', async () => {
    const ann = await user('ann');
    const ctor = await user('constructor');
    const proto = await user('__proto__');
    const members = [ann, ctor, proto];
    const id = await ann.createGroup('Prototype circle', '', ['constructor', '__proto__']);
    for (const e of [ctor, proto]) await eventually(async () => expect((await e.listGroups()).find((g) => g.id === id)?.memberCount).toBe(3));
    for (const [i, e] of members.entries()) {
      await e.sendGroupText(id, `warm ${i}`);
      for (const r of members) await eventually(async () => expect((await r.listGroupMessages(id)).filter((m) => m.kind === 'text')).toHaveLength(i + 1));
    }
    // Ann gave each member a seal key of her own (group-seal-keys.ts), so her next send can be v3.
    const g = await commit(ann.ctx.vault, (tx) => txGetGroup(tx, id));
    expect(v3SealKeys(g!, [asUsername('constructor'), asUsername('__proto__')])).toHaveLength(2);
    expect(Object.keys(g!.sealKeys ?? {}).sort()).toEqual(['__proto__', 'constructor']);

    const warm0 = async (e: typeof ann) => (await e.listGroupMessages(id)).find((m) => m.kind === 'text' && m.text === 'warm 0')!.id;
    await proto.reactInGroup(id, await warm0(proto), '🔥');
    await ctor.reactInGroup(id, await warm0(ctor), '🔥');
    const annsId = await warm0(ann);
    await eventually(async () => {
      const m = (await ann.listGroupMessages(id)).find((x) => x.id === annsId);
      expect(m?.kind === 'text' ? reactionsAsSets(m.reactions) : undefined).toEqual([{ emoji: '🔥', count: 2, mine: false, who: ['__proto__', 'constructor'] }]);
    });
  });
});

/**
 * Shared setup for the group message action tests (README "Groups": message actions; P47):
 * engines on the real host, a group of three, the texts of a group, and a member's modified
 * client that sends any content as a group text under its real sender key.
 */
import 'fake-indexeddb/auto';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { hostAuth } from '../../workers/engine/account';
import { putGroup, txGetGroup, type GroupRecord } from '../../workers/storage/group-repo';
import { commit } from '../../workers/storage/vault';
import { stateHash } from '../../src/lib/crypto/group/group-state-codec';
import { groupEncrypt } from '../../src/lib/crypto/group/sender-key';
import { encodeContent, type Content } from '../../src/lib/wire/content';
import { encodeGroupText } from '../../src/lib/wire/group-content';
import type { Username } from '../../src/lib/codec/username';
import type { GroupMessageView } from '../../src/lib/vault/group-views';
import { eventually, realHostPerTest } from './real-host-support';

export type Text = Extract<GroupMessageView, { kind: 'text' }>;

export function groupActionHost(prefix: string) {
  let engines: Engine[] = [];
  let n = 0;
  const real = realHostPerTest(prefix, async () => {
    for (const e of engines) await e.close();
    engines = [];
  });
  async function person(name: string): Promise<Engine> {
    const t = new HostHttpTransport(real.host!.url, WebSocket as unknown as WsCtor);
    const e = await Engine.open({ transport: t, dbName: `gact-${name}-${process.pid}-${n++}`, locks: memoryLocks(), retryMs: 50 });
    engines.push(e);
    await e.createAccount(name);
    e.connect();
    return e;
  }
  /** Ann (admin) with Ben and Cat; each has written once, so all hold each other's sender keys. */
  async function trio() {
    const [ann, ben, cat] = [await person('ann'), await person('ben'), await person('cat')];
    const id = await ann.createGroup('Climbing', '', ['ben', 'cat']);
    for (const p of [ben, cat]) await eventually(async () => expect((await p.groupInfo(id)).members).toHaveLength(3));
    for (const [p, body] of [[ann, 'hello'], [ben, 'from ben'], [cat, 'from cat']] as const) {
      await p.sendGroupText(id, body);
      for (const q of [ann, ben, cat]) await eventually(async () => void (await textOf(q, id, body)));
    }
    return { id, ann, ben, cat, person };
  }
  return { person, trio };
}

export async function textOf(e: Engine, id: string, body: string): Promise<Text> {
  const m = (await e.listGroupMessages(id)).find((x): x is Text => x.kind === 'text' && x.text === body);
  if (!m) throw new Error(`no "${body}" yet`);
  return m;
}

export const texts = async (e: Engine, id: string): Promise<string[]> =>
  (await e.listGroupMessages(id)).flatMap((m) => (m.kind === 'text' ? [m.deleted ? '(deleted)' : m.text] : []));

/** The 32-hex content id inside a view id (`${group}:${id}` or `${group}:${author}:${id}`). */
export const contentId = (viewId: string): string => viewId.split(':').at(-1)!;

/**
 * A member's modified client: `content` as a group text under `from`'s sender key (its advanced
 * state stored, so its later real messages still decrypt), uploaded by the authenticated fan-out.
 * `snapshot`: a copy of the group record from before (a removed member's old key).
 */
export async function forge(from: Engine, id: string, content: Content, opts: { targetAuthor?: string; to?: string[]; snapshot?: GroupRecord } = {}): Promise<void> {
  const me = from.ctx.me!.username;
  const { message, to } = await from.ctx.serial(() =>
    commit(from.ctx.vault, async (tx) => {
      const g = opts.snapshot ?? (await txGetGroup(tx, id))!;
      const head = g.history.head;
      const plain = encodeGroupText({
        headVersion: head.version,
        headHash: stateHash(head),
        content: encodeContent(content),
        ...(opts.targetAuthor ? { targetAuthor: opts.targetAuthor as Username } : {})
      });
      const { state, message } = groupEncrypt(g.our!, plain);
      if (!opts.snapshot) await putGroup(tx, { ...g, our: state });
      return { message, to: head.members.map((m) => m.address.username).filter((u) => u !== me) };
    })
  );
  await from.ctx.transport.groupSend!(hostAuth(from.ctx.me!), (opts.to ?? to) as Username[], message);
}

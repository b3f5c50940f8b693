/**
 * SECURITY.md P46 for chat addresses (workers/engine/chat-routes.ts): the vault answers each chat's
 * route from a key it keeps sealed with the data key. The same chat keeps one address across
 * turning the app lock on (which rotates the data key: the key row is re-sealed, not lost) and
 * a lock and unlock (the key read back from storage); another vault's route and a plain username
 * open to no one; a locked vault answers no route at all. Real host.
 */
import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { asUsername } from '../../src/lib/codec/username';
import { ROUTE_NAME_LEN } from '../../src/lib/crypto/route-name';
import { forgetChatRoutes } from '../../workers/engine/chat-routes';
import { enginesOnRealHost, eventually, texts } from './real-host-support';
import { TEST_LOCK_KDF, TEST_LOCK_PASS } from '../support/app-lock-fixtures';

const { user } = enginesOnRealHost('parley-chat-routes-');

/** One chat's address through the batch method, as the page's `chatRouteOf` asks for it. */
async function routeOf(engine: { chatRoutes(u: readonly string[]): Promise<string[]> }, username: string): Promise<string> {
  const [route] = await engine.chatRoutes([asUsername(username)]);
  return route!;
}

describe('P46 chat routes in the vault', () => {
  test('P46 a chat keeps one sealed address through the lock and its data key rotation; the list carries it; a locked vault answers none', async () => {
    const alice = await user('alice', { appLockKdf: TEST_LOCK_KDF });
    const bob = await user('bob');
    await alice.sendText('bob', 'hello bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));

    const route = await routeOf(alice, 'bob');
    expect(route).toHaveLength(ROUTE_NAME_LEN);
    expect(route).not.toContain('bob');
    expect(await routeOf(alice, 'bob')).toBe(route);
    expect(await alice.openChatRoute(route)).toBe('bob');
    expect((await alice.listChats()).map((c) => [c.username, c.route])).toEqual([['bob', route]]);
    // Note to self has one too.
    const own = await routeOf(alice, 'alice');
    expect(await alice.openChatRoute(own)).toBe('alice');

    // Another vault's key: bob's route for his chat with alice opens nothing here, nor does a plain name.
    const bobs = await routeOf(bob, 'alice');
    expect(bobs).not.toBe(own);
    expect(await alice.openChatRoute(bobs)).toBeUndefined();
    expect(await alice.openChatRoute('bob')).toBeUndefined();
    expect(await alice.openChatRoute(undefined as unknown as string)).toBeUndefined();

    // Turning the lock on rotates the data key; the route key is re-sealed with the rest.
    await alice.locks.enableLock(TEST_LOCK_PASS, 5);
    expect(await routeOf(alice, 'bob')).toBe(route);
    await alice.locks.lockNow();
    await expect(routeOf(alice, 'bob')).rejects.toThrow();
    await expect(alice.openChatRoute(route)).rejects.toThrow();
    await alice.locks.unlock(TEST_LOCK_PASS);
    expect(await alice.openChatRoute(route)).toBe('bob');
    expect(await routeOf(alice, 'bob')).toBe(route);
  });

  test('P46 many addresses in one call: in the order asked, canonical names, and a bounded, checked request', async () => {
    const alice = await user('alice');
    const names = Array.from({ length: 300 }, (_, i) => `member_${i}`);
    const routes = await alice.chatRoutes(names);
    expect(routes).toHaveLength(300);
    expect(new Set(routes).size).toBe(300);
    for (const i of [0, 137, 299]) expect(await alice.openChatRoute(routes[i]!)).toBe(names[i]);
    // The same person under another spelling has the same address; a batch of one agrees with the batch.
    expect(await alice.chatRoutes(['Member_7', 'member_7'])).toEqual([routes[7], routes[7]]);
    expect(await routeOf(alice, 'member_299')).toBe(routes[299]);
    expect(await alice.chatRoutes([])).toEqual([]);
    // A request past the bound, a non-array, or a name that is no username is refused whole.
    await expect(alice.chatRoutes(Array.from({ length: 1025 }, (_, i) => `m_${i}`))).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.chatRoutes('bob' as unknown as string[])).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(alice.chatRoutes(['bob', 'no spaces allowed'])).rejects.toThrow();
  });

  test('P33 a route key that no longer opens is replaced: the chat list keeps working, old addresses name no one', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.sendText('bob', 'hello bob');
    await eventually(async () => expect(await texts(bob, 'alice')).toEqual(['hello bob']));
    const before = await routeOf(alice, 'bob');
    // The row as a tab racing a data-key rotation would leave it: sealed under a key this vault no longer has.
    const db = alice.ctx.vault.db;
    const row = (await db.get('meta', 'routeKey')) as { iv: Uint8Array; ct: Uint8Array };
    row.ct[0]! ^= 0xff;
    await db.put('meta', row as never, 'routeKey');
    forgetChatRoutes(alice.ctx);

    const chats = await alice.listChats();
    expect(chats.map((c) => c.username)).toEqual(['bob']);
    expect(chats[0]!.route).not.toBe(before);
    expect(await alice.openChatRoute(chats[0]!.route)).toBe('bob');
    expect(await alice.openChatRoute(before)).toBeUndefined();
  });
});

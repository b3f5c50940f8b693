/**
 * Notification tags and clicks (README "Notifications"; src/lib/client/attention/notify-tags.ts,
 * the service worker's click handler in src/lib/client/pwa/sw-push.ts): a tag names no one, tabs
 * of one browser agree on it, a click maps back to the conversation only through the page, and
 * the worker's message to the page cannot carry anything but a Parley tag.
 */
import { describe, expect, test } from 'vitest';
import {
  browserTagSecret,
  isParleyTag,
  NOTIFICATION_CLICK,
  NotifyTags,
  parseNotificationClick,
  PRIVATE_TAG,
  PUSH_TAG,
  routeOf
} from '../../src/lib/client/attention/notify-tags';
import { installNotificationClicks, withPushHandlers } from '../../src/lib/client/pwa/sw-push';

const secret = (fill: number) => new Uint8Array(32).fill(fill);

describe('notification tags', () => {
  test('a name-mode tag is opaque (no username, no group id), the same in every tab of the browser, and differs per browser key', async () => {
    const tabA = new NotifyTags(secret(7));
    const tabB = new NotifyTags(secret(7));
    const other = new NotifyTags(secret(8));
    const bob = await tabA.tagFor('c:bob_the_builder');
    const group = await tabA.tagFor('g:0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(bob).toMatch(/^parley-n:[0-9a-f]{32}$/);
    expect(bob).not.toMatch(/bob|builder/);
    expect(group).not.toContain('0f1e2d3c');
    expect(bob).not.toBe(group);
    expect(await tabB.tagFor('c:bob_the_builder')).toBe(bob);
    expect(await other.tagFor('c:bob_the_builder')).not.toBe(bob);
    expect(isParleyTag(bob) && isParleyTag(PRIVATE_TAG) && isParleyTag(PUSH_TAG)).toBe(true);
  });

  test('a tag maps back to its conversation: one this page showed, or one another tab showed for a row of this chat list; else the chat list', async () => {
    const shower = new NotifyTags(secret(3));
    const chatTag = await shower.tagFor('c:bob');
    const groupTag = await shower.tagFor('g:abcd');
    expect(routeOf(await shower.keyFor(chatTag, []))).toEqual({ kind: 'chat', username: 'bob' });
    // Another tab of the same browser never computed these tags itself: it hashes its own list.
    const otherTab = new NotifyTags(secret(3));
    expect(routeOf(await otherTab.keyFor(groupTag, ['c:ann', 'g:abcd']))).toEqual({ kind: 'group', id: 'abcd' });
    expect(routeOf(await otherTab.keyFor(chatTag, ['c:ann']))).toEqual({ kind: 'chats' });
    // Private mode's one tag and the push's are about no conversation, whatever the page showed.
    expect(routeOf(await shower.keyFor(PRIVATE_TAG, ['c:bob']))).toEqual({ kind: 'chats' });
    expect(routeOf(await shower.keyFor(PUSH_TAG, ['c:bob']))).toEqual({ kind: 'chats' });
    // A well-formed tag nobody made opens the chat list.
    expect(routeOf(await shower.keyFor(`parley-n:${'f'.repeat(32)}`, ['c:bob', 'g:abcd']))).toEqual({ kind: 'chats' });
    expect(routeOf(undefined)).toEqual({ kind: 'chats' });
    expect(routeOf('c:')).toEqual({ kind: 'chats' });
  });

  test('the browser key is made once, kept as hex, and a damaged one is replaced', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const first = browserTagSecret(storage);
    expect(first).toHaveLength(32);
    expect(browserTagSecret(storage)).toEqual(first);
    store.set('parley.notify-tag-key', 'not hex');
    const next = browserTagSecret(storage);
    expect(next).not.toEqual(first);
    expect(store.get('parley.notify-tag-key')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('P31 the service worker message to the page', () => {
  const tag = `parley-n:${'0a'.repeat(16)}`;

  test('only exactly { type, tag } with a Parley tag is believed', () => {
    expect(parseNotificationClick({ type: NOTIFICATION_CLICK, tag })).toBe(tag);
    expect(parseNotificationClick({ type: NOTIFICATION_CLICK, tag: PRIVATE_TAG })).toBe(PRIVATE_TAG);
    for (const forged of [
      null,
      'parley',
      [NOTIFICATION_CLICK, tag],
      { type: NOTIFICATION_CLICK },
      { type: 'SKIP_WAITING', tag },
      { type: NOTIFICATION_CLICK, tag, route: '/chat/mallory' },
      { type: NOTIFICATION_CLICK, tag: 'c:mallory' },
      { type: NOTIFICATION_CLICK, tag: '/settings' },
      { type: NOTIFICATION_CLICK, tag: `${tag}<img src=x onerror=alert(1)>` },
      { type: NOTIFICATION_CLICK, tag: `parley-n:${'A'.repeat(32)}` },
      { type: NOTIFICATION_CLICK, tag: 42 }
    ])
      expect(parseNotificationClick(forged), JSON.stringify(forged)).toBeUndefined();
  });

  /**
   * A service worker scope with one window (or none), recording what the handler does; the
   * handlers run from the very text the build appends to the worker (withPushHandlers), which
   * proves it self-contained too.
   */
  function fakeWorker(withWindow: boolean) {
    const did: string[] = [];
    const posted: unknown[] = [];
    let handler: ((e: NotificationEvent) => void) | undefined;
    const client = {
      postMessage: (m: unknown) => void posted.push(m),
      focus: async () => void did.push('focus')
    };
    const sw = {
      addEventListener: (type: string, h: (e: NotificationEvent) => void) => {
        if (type === 'notificationclick') handler = h;
      },
      clients: {
        matchAll: async () => (withWindow ? [client] : []),
        openWindow: async (url: string) => void did.push(`open ${url}`)
      }
    } as unknown as ServiceWorkerGlobalScope;
    new Function('self', withPushHandlers('/* generated */'))(sw);
    const click = async (t: string) => {
      const pending: Promise<unknown>[] = [];
      const notification = { tag: t, close: () => void did.push('close') };
      handler!({ notification, waitUntil: (p: Promise<unknown>) => void pending.push(p) } as unknown as NotificationEvent);
      await Promise.all(pending);
    };
    return { did, posted, click };
  }

  test('a click sends the open window only the tag, in the one shape the page accepts, and focuses it', async () => {
    const w = fakeWorker(true);
    await w.click(tag);
    expect(w.posted).toEqual([{ type: NOTIFICATION_CLICK, tag }]);
    expect(parseNotificationClick(w.posted[0])).toBe(tag);
    expect(w.did).toEqual(['close', 'focus']);
  });

  test('with no window open a click opens the chat list; a notification that is not Parley\u2019s is left alone', async () => {
    const w = fakeWorker(false);
    await w.click(PRIVATE_TAG);
    expect(w.did).toEqual(['close', 'open /chats']);
    const other = fakeWorker(true);
    await other.click('someone-else');
    expect(other.did).toEqual([]);
    expect(other.posted).toEqual([]);
  });

  test('the worker text carries the click handler once (appended before the seal, so the build hash covers it)', () => {
    const sw = withPushHandlers('/* generated */');
    expect(sw).toContain(installNotificationClicks.toString());
    expect(withPushHandlers(sw)).toBe(sw);
  });
});

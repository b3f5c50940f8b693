/**
 * What a shown notification carries, and how a click on it finds its way back (README
 * "Notifications"). The operating system keeps a notification's title, body and tag (Chrome on
 * Android puts the tag into the platform's notification id), so the tag must not name anyone:
 *
 * - private mode: one tag, `parley`, for every conversation; a click opens the chat list;
 * - name mode: `parley-n:<32 hex>`, an HMAC-SHA-256 of the conversation key (`c:<username>` or
 *   `g:<group id>`) under a random key this browser keeps. Every tab computes the same tag, so two
 *   hidden tabs still show one notification per conversation, and any tab can map a tag back by
 *   hashing its own chat list; nothing readable reaches the notification store beyond the title
 *   the user chose to show.
 *
 * A notification carries no `data`. The service worker (pwa/sw-push.ts) tells the page only
 * "this tag was clicked"; `parseNotificationClick` believes nothing else (P31, as the tab channel
 * in calls/tab-calls.ts), and a tag the page cannot map opens the chat list at most.
 */

/** The one tag of private mode (and of nothing else the page shows). */
export const PRIVATE_TAG = 'parley';
/** The service worker's own "New message" for a push with the tab closed (README "Web Push with the tab closed"). */
export const PUSH_TAG = 'parley-push';
const NAMED_TAG = /^parley-n:[0-9a-f]{32}$/;

/** The service worker's message to the page for a click (the same literal lives in sw-push.ts). */
export const NOTIFICATION_CLICK = 'parley:notification-click';

/** Tags that are Parley's: a click on anything else is not ours to handle. */
export function isParleyTag(tag: unknown): tag is string {
  return typeof tag === 'string' && (tag === PRIVATE_TAG || tag === PUSH_TAG || NAMED_TAG.test(tag));
}

/**
 * The clicked tag if `m` is exactly `{ type: NOTIFICATION_CLICK, tag }` with a Parley tag;
 * undefined for anything else (extra fields, a route, a username, a script...).
 */
export function parseNotificationClick(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const o = m as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 2 || !keys.includes('type') || !keys.includes('tag')) return undefined;
  return o.type === NOTIFICATION_CLICK && isParleyTag(o.tag) ? o.tag : undefined;
}

/** Where a click leads: a 1:1 chat, a group, or the chat list. */
export type NotifyRoute = { kind: 'chat'; username: string } | { kind: 'group'; id: string } | { kind: 'chats' };

/** The route of a conversation key (`c:<username>` / `g:<id>`, attention.ts); the chat list for anything else. */
export function routeOf(key: string | undefined): NotifyRoute {
  if (key?.startsWith('c:') && key.length > 2) return { kind: 'chat', username: key.slice(2) };
  if (key?.startsWith('g:') && key.length > 2) return { kind: 'group', id: key.slice(2) };
  return { kind: 'chats' };
}

const hex = (b: ArrayBuffer): string => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** Conversation key ↔ opaque tag, under `secret` (a random key kept by this browser). */
export class NotifyTags {
  readonly #key: Promise<CryptoKey>;
  /** Tags this page computed, tag → conversation key (memory only). */
  readonly #known = new Map<string, string>();

  constructor(secret: Uint8Array) {
    if (secret.length < 16) throw new RangeError('the tag key needs at least 16 bytes');
    this.#key = crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** The opaque tag of `key`: `parley-n:` and 128 bits of HMAC-SHA-256(secret, key). */
  async tagFor(key: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', await this.#key, new TextEncoder().encode(key));
    const tag = `parley-n:${hex(mac).slice(0, 32)}`;
    this.#known.set(tag, key);
    return tag;
  }

  /**
   * The conversation a clicked `tag` is about: one this page showed, else one of `keys` (this
   * tab's chat list, which another tab may have notified for). The private tag, the push tag and
   * any tag no key hashes to are about no conversation: undefined (the chat list).
   */
  async keyFor(tag: string, keys: readonly string[]): Promise<string | undefined> {
    if (!NAMED_TAG.test(tag)) return undefined;
    const known = this.#known.get(tag);
    if (known !== undefined) return known;
    for (const key of keys) if ((await this.tagFor(key)) === tag) return key;
    return undefined;
  }
}

const SECRET_KEY = 'parley.notify-tag-key';

/**
 * This browser's tag key, made on first use and kept in localStorage: shared by its tabs (so their
 * tags agree), never sent anywhere. It hides names from the notification store, not from someone
 * who can read this browser's storage — and such a reader of a name-mode notification has its
 * title anyway.
 */
export function browserTagSecret(storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): Uint8Array {
  const kept = storage.getItem(SECRET_KEY);
  if (kept && /^[0-9a-f]{64}$/.test(kept)) return Uint8Array.from(kept.match(/../g)!, (h) => parseInt(h, 16));
  const fresh = crypto.getRandomValues(new Uint8Array(32));
  storage.setItem(SECRET_KEY, hex(fresh.buffer));
  return fresh;
}

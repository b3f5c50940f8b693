/**
 * The browser side of attention.ts (README "Notifications"): the unread total in the tab title
 * and on the installed app's badge (`setAppBadge`), and a notification for each conversation that
 * gains messages while every view of it is hidden — only after the user turned notifications on,
 * and never with message text (attention.ts). Local only: nothing here talks to the host.
 * Each tab of the account sees the same list; notifications share a tag per conversation, so two
 * hidden tabs show one.
 *
 * Notifications are shown through the service worker's registration whenever one is active, the
 * constructor only where none is (the dev server, a first visit before it activates): Chrome on
 * Android allows only the former, and one click path (the worker's `notificationclick`, pwa/sw-push.ts)
 * then serves every browser and still works after this page reloaded or closed. The worker posts
 * back only the clicked tag; this page maps it (notify-tags.ts).
 */
import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import type { Session } from '../session.svelte';
import { chatRouteOf } from '../chat-route.svelte';
import { canonicalUsername } from '../../codec/username';
import { ArrivalTracker, noticeFor, parseMode, titleWithCount, unreadTotal, type Notice, type NotifyMode, type UnreadRow } from './attention';
import { browserTagSecret, NotifyTags, parseNotificationClick, PRIVATE_TAG, routeOf } from './notify-tags';

const MODE_KEY = 'parley.notifications';

/** The user's choice, kept in this browser's localStorage (a preference, not a secret). */
export const notifyPrefs = $state<{ mode: NotifyMode }>({ mode: parseMode(globalThis.localStorage?.getItem(MODE_KEY)) });

export function setNotifyMode(mode: NotifyMode): void {
  notifyPrefs.mode = mode;
  localStorage.setItem(MODE_KEY, mode);
}

/** 'unsupported' where the browser has no Notification API (e.g. iOS Safari outside a home-screen app). */
export function notifyPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

function rowsOf(session: Session): UnreadRow[] {
  return [
    ...session.chats.map((c) => ({ key: `c:${c.username}`, name: c.profile?.displayName || c.username, unread: c.unread, muted: c.flags.muted })),
    ...session.groups.map((g) => ({ key: `g:${g.id}`, name: g.name, unread: g.unread, muted: g.flags.muted, mentions: g.mentions }))
  ];
}

/** Opens what a clicked notification is about: its conversation, or the chat list. */
async function openTag(tags: NotifyTags, tag: string, session: Session): Promise<void> {
  window.focus();
  const route = routeOf(await tags.keyFor(tag, rowsOf(session).map((r) => r.key)));
  const person = route.kind === 'chat' ? canonicalUsername(route.username) : undefined;
  if (typeof person === 'string') await goto(resolve('/(app)/chat/[route]', { route: await chatRouteOf(session, person) }));
  else if (route.kind === 'group') await goto(resolve('/(app)/group/[id]', { id: route.id }));
  else await goto(resolve('/chats'));
}

/** The active service worker registration, if this page has one (the production build). */
async function activeRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  const reg = await navigator.serviceWorker?.getRegistration().catch(() => undefined);
  return reg?.active ? reg : undefined;
}

/** Notifications this page made itself (no service worker active), to close them at a lock. */
// Plain Set on purpose: bookkeeping no component renders.
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const pageShown = new Set<Notification>();

/**
 * P46: a locked Parley shows nothing of its chats, so what it put in the system's notification
 * list goes too (a named one says who wrote), whichever way it was shown.
 */
async function closeAll(): Promise<void> {
  for (const n of pageShown) n.close();
  pageShown.clear();
  const reg = await activeRegistration();
  for (const n of (await reg?.getNotifications().catch(() => [])) ?? []) n.close();
}

async function show(n: Notice, tags: NotifyTags, session: Session): Promise<void> {
  // No data, and a tag that names no one (notify-tags.ts): the OS keeps both.
  const tag = n.named ? await tags.tagFor(n.key) : PRIVATE_TAG;
  const options: NotificationOptions = { body: n.body, tag, icon: '/icons/icon-192.png' };
  const reg = await activeRegistration();
  if (reg) {
    await reg.showNotification(n.title, options).catch(() => undefined);
    return;
  }
  try {
    const shown = new Notification(n.title, options);
    pageShown.add(shown);
    shown.onclose = () => pageShown.delete(shown);
    shown.onclick = () => {
      void openTag(tags, tag, session);
      shown.close();
    };
  } catch {
    // Only a service worker may show one here (Chrome on Android) and none is active yet.
    const ready = await Promise.race([navigator.serviceWorker?.ready, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000))]);
    await ready?.showNotification(n.title, options).catch(() => undefined);
  }
}

function setBadge(total: number): void {
  const nav = navigator as Navigator & { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  const done = total > 0 ? nav.setAppBadge?.(total) : nav.clearAppBadge?.();
  void done?.catch(() => undefined);
}

/** Starts title, badge and notifications for `session`; returns the stop function. */
export function startAttention(session: Session): () => void {
  let tracker = new ArrivalTracker();
  let total = 0;
  const tags = new NotifyTags(browserTagSecret());
  // The service worker's word on a click: a tag, nothing else (P31, notify-tags.ts).
  const onWorkerMessage = (ev: MessageEvent<unknown>) => {
    if (!(ev.source instanceof ServiceWorker)) return;
    const tag = parseNotificationClick(ev.data);
    if (tag !== undefined) void openTag(tags, tag, session);
  };
  navigator.serviceWorker?.addEventListener('message', onWorkerMessage);
  navigator.serviceWorker?.startMessages();
  const retitle = () => {
    const want = titleWithCount(document.title, total);
    if (document.title !== want) document.title = want;
  };
  // Pages set their own <title>; the count goes back in front whenever one does.
  const titles = new MutationObserver(retitle);
  titles.observe(document.head, { subtree: true, childList: true, characterData: true });
  const stopEffects = $effect.root(() => {
    $effect(() => {
      // The baseline is the list as the app opens with it: what already waited is not news.
      if (session.phase !== 'ready') {
        tracker = new ArrivalTracker();
        // Locked (P46) or the account gone: no notification, count or badge is left to tell.
        if (session.phase === 'locked' || session.phase === 'removed' || session.phase === 'signed-out') {
          total = 0;
          retitle();
          setBadge(0);
          void closeAll();
        }
        return;
      }
      const rows = rowsOf(session);
      total = unreadTotal(rows);
      retitle();
      setBadge(total);
      const arrivals = tracker.arrivals(rows);
      const mode = notifyPrefs.mode;
      if (mode === 'off' || document.visibilityState !== 'hidden' || notifyPermission() !== 'granted') return;
      for (const row of arrivals) void show(noticeFor(row, mode), tags, session);
    });
  });
  return () => {
    navigator.serviceWorker?.removeEventListener('message', onWorkerMessage);
    titles.disconnect();
    stopEffects();
  };
}

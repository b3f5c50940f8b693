/**
 * The browser side of attention.ts (README "Notifications"): the unread total in the tab title
 * and on the installed app's badge (`setAppBadge`), and a notification for each conversation that
 * gains messages while every view of it is hidden — only after the user turned notifications on,
 * and never with message text (attention.ts). Local only: nothing here talks to the host.
 * Each tab of the account sees the same list; notifications share a tag per conversation, so two
 * hidden tabs show one.
 */
import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import type { Session } from '../session.svelte';
import { ArrivalTracker, noticeFor, parseMode, titleWithCount, unreadTotal, type Notice, type NotifyMode, type UnreadRow } from './attention';

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

function open(key: string): void {
  window.focus();
  const [kind, id] = [key.slice(0, 1), key.slice(2)];
  void goto(kind === 'g' ? resolve('/(app)/group/[id]', { id }) : resolve('/(app)/chat/[username]', { username: id }));
}

async function show(n: Notice): Promise<void> {
  const options: NotificationOptions = { body: n.body, tag: n.tag, icon: '/icons/icon-192.png' };
  try {
    const shown = new Notification(n.title, options);
    shown.onclick = () => {
      open(n.key);
      shown.close();
    };
  } catch {
    // Browsers that allow notifications only from a service worker (Chrome on Android).
    const reg = await navigator.serviceWorker?.getRegistration();
    await reg?.showNotification(n.title, options).catch(() => undefined);
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
        return;
      }
      const rows = rowsOf(session);
      total = unreadTotal(rows);
      retitle();
      setBadge(total);
      const arrivals = tracker.arrivals(rows);
      const mode = notifyPrefs.mode;
      if (mode === 'off' || document.visibilityState !== 'hidden' || notifyPermission() !== 'granted') return;
      for (const row of arrivals) void show(noticeFor(row, mode));
    });
  });
  return () => {
    titles.disconnect();
    stopEffects();
  };
}

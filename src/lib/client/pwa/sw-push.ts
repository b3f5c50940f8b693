/**
 * The service worker's Web Push handlers (README "Web Push with the tab closed"). The host's push
 * is empty (src/host/push/): it only says "mail is waiting". The service worker holds no key —
 * the vault lives in a dedicated worker that a service worker cannot reach, and with every tab
 * closed there is none — so it decrypts nothing and shows nothing it would need the vault for:
 * a generic "New message" notification (one tag, so several pushes show one), never a sender, a
 * chat or any text, and it never reads the push's data even if some sender put bytes there.
 * If a Parley window is visible it shows nothing (that page has its socket and its own
 * notifications, README "Notifications"); a hidden or locked tab still gets the generic one, as
 * Chrome requires a notification for every push no visible page answers (`userVisibleOnly`).
 * A click is installNotificationClicks' (below): an open Parley window is focused and shows the
 * chat list, or a new one opens on it.
 *
 * BUILD time: `installPushHandlers` is serialised into the generated service worker by
 * `withPushHandlers` (vite.config.ts, before the seal, so the build hash and P39's update consent
 * cover it); it must stay self-contained — no imports, no outside names.
 */

export function installPushHandlers(sw: ServiceWorkerGlobalScope): void {
  const TITLE = 'New message';
  const TAG = 'parley-push';
  const windows = () => sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  sw.addEventListener('push', (event: PushEvent) => {
    event.waitUntil(
      (async () => {
        if ((await windows()).some((c) => c.visibilityState === 'visible')) return;
        await sw.registration.showNotification(TITLE, { tag: TAG, icon: '/icons/icon-192.png', badge: '/icons/icon-192.png' });
      })()
    );
  });
}

/**
 * Clicks on any Parley notification (README "Notifications"): the page's (one per conversation,
 * shown through this registration) and the push's. The tag is all the worker passes on: it posts
 * `{ type: 'parley:notification-click', tag }` to the most recently focused Parley window and
 * focuses it; that page maps the tag to a conversation itself (attention/notify-tags.ts), and one
 * it cannot map opens the chat list. With no window open the chat list opens: the tag is opaque,
 * and nothing here knows which conversation it was. Self-contained like installPushHandlers, and
 * the message literal must match NOTIFICATION_CLICK in notify-tags.ts.
 */
export function installNotificationClicks(sw: ServiceWorkerGlobalScope): void {
  const ours = (tag: string) => tag === 'parley' || tag === 'parley-push' || /^parley-n:[0-9a-f]{32}$/.test(tag);
  sw.addEventListener('notificationclick', (event: NotificationEvent) => {
    const tag = event.notification.tag;
    if (!ours(tag)) return;
    event.notification.close();
    event.waitUntil(
      (async () => {
        // Most recently focused first (Clients.matchAll's order for windows).
        const [open] = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
        if (!open) {
          await sw.clients.openWindow('/chats');
          return;
        }
        open.postMessage({ type: 'parley:notification-click', tag });
        // The page also focuses itself; a refused focus must not lose the navigation.
        await open.focus().catch(() => undefined);
      })()
    );
  });
}

/** Marks a worker that already carries the handlers (sealing a sealed build adds nothing). */
const MARK = '/* parley:push-handlers */';

/** The generated service worker's text with the push and click handlers appended, run at its first evaluation. */
export function withPushHandlers(sw: string): string {
  if (sw.includes(MARK)) return sw;
  return `${sw}\n${MARK}\n;(${installPushHandlers.toString()})(self);\n;(${installNotificationClicks.toString()})(self);\n`;
}

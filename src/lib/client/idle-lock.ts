/**
 * Auto-lock after the idle time the user picked (SECURITY.md P46). Activity is any key, pointer,
 * wheel or touch event in a Parley tab; its time is shared with the other tabs of this browser
 * through localStorage, so a tab in the background never locks the one in use (and the lock,
 * when it comes, reaches every tab through the vault's sealed tab channel). A hidden or frozen
 * tab checks again as soon as it runs. Knows nothing of keys: it only calls `lockNow`.
 */
import type { Session } from './session.svelte';

const ACTIVITY_KEY = 'parley:last-activity';
const CHECK_MS = 10_000;
const WRITE_EVERY_MS = 5_000;
const EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

/**
 * `busy` says a call is placed or under way in this tab: that counts as activity (people on a
 * call touch nothing for minutes), published like any other so no tab locks the account under it.
 */
export function startIdleLock(session: Session, busy: () => boolean = () => false): () => void {
  let last = Date.now();
  let written = 0;
  const activity = (): void => {
    last = Date.now();
    if (last - written < WRITE_EVERY_MS) return;
    written = last;
    try {
      localStorage.setItem(ACTIVITY_KEY, String(last));
    } catch {
      // Storage refused: each tab judges by its own activity.
    }
  };
  const lastActivity = (): number => {
    const shared = Number(localStorage.getItem(ACTIVITY_KEY));
    return Math.max(last, Number.isFinite(shared) ? shared : 0);
  };
  const check = (): void => {
    const minutes = session.lock?.enabled ? session.lock.idleMinutes : 0;
    if (session.phase !== 'ready' || minutes <= 0) return;
    if (busy()) return activity();
    if (Date.now() - lastActivity() >= minutes * 60_000) void session.lockNow().catch(() => undefined);
  };
  for (const e of EVENTS) window.addEventListener(e, activity, { passive: true, capture: true });
  document.addEventListener('visibilitychange', check);
  const timer = setInterval(check, CHECK_MS);
  return () => {
    for (const e of EVENTS) window.removeEventListener(e, activity, { capture: true });
    document.removeEventListener('visibilitychange', check);
    clearInterval(timer);
  };
}

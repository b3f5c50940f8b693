/**
 * Whose takeover is it (SECURITY.md P39)? When a service worker starts controlling an open page
 * (`controllerchange`), the page either reloads into the build the user accepted or stops as
 * "changed while it was open" (BuildGate.replaced). A takeover the user consented to is one where
 * the controller's URL CHANGED to the worker of the build the user accepts now: the update
 * accepted in this tab, or in another tab of the same browser (which shares the accepted build),
 * whose new worker takes over every tab as it activates. A new worker at the SAME URL is a host
 * that changed the file behind an installed worker: never consented, however it is named.
 * Either way the next load is judged by the boot check; this decides only whether the user is
 * told that something changed the code without them. Knows nothing of the service worker API.
 */
import { swUrl } from './build-seal';

/**
 * `before`/`after`: the controller's script URL (absolute) before and after the change; `accepted`:
 * the build hash the user accepts now; `origin`: the page's.
 */
export function consentedTakeover(before: string | undefined, after: string | undefined, accepted: string | undefined, origin: string): boolean {
  if (!accepted || !after || before === after) return false;
  return after === new URL(swUrl(accepted), origin).href;
}

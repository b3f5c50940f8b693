/**
 * The service worker's static routes (README "Attachments (as built)", *Measured*): every request
 * under `/api/` goes straight to the network, never through the service worker's fetch handler.
 * The service worker answers nothing there anyway (Workbox precaches the app shell and its
 * navigation fallback denies `/api`, vite.config.ts), but without a route Chromium still hands
 * each such request — the vault worker's 1 MiB attachment parts included — to the service worker
 * as a fetch event first, which cost about a third of the attachment throughput. App pages and
 * assets (`/`, `/chats`, `/_app/…`) keep going through the fetch handler, so the offline shell and
 * its integrity pins (P30) are unchanged.
 *
 * Uses the Service Worker Static Routing API (`InstallEvent.addRoutes`, a URLPattern condition,
 * source 'network'), feature-detected: a browser without it keeps the previous behaviour. Routes
 * are fixed at install, so they change only with a new service worker, which the user accepts
 * (P39).
 *
 * BUILD time: serialised into the generated service worker by `withNetworkRoutes` (vite.config.ts,
 * before the seal, so the build hash covers it); it must stay self-contained — no imports, no
 * outside names.
 */

export function installNetworkRoutes(sw: ServiceWorkerGlobalScope): void {
  type Routed = ExtendableEvent & { addRoutes?: (rules: unknown) => Promise<void> };
  sw.addEventListener('install', (event: Event) => {
    const e = event as Routed;
    const Pattern = (sw as unknown as { URLPattern?: new (init: { pathname: string }) => unknown }).URLPattern;
    if (typeof e.addRoutes !== 'function' || !Pattern) return;
    // Only the path is matched, against this origin (a URLPattern init without origin parts
    // matches any origin; only same-origin requests reach a service worker's routes anyway).
    e.waitUntil(e.addRoutes([{ condition: { urlPattern: new Pattern({ pathname: '/api/*' }) }, source: 'network' }]).catch(() => undefined));
  });
}

/** Marks a worker that already carries the routes (sealing a sealed build adds nothing). */
const MARK = '/* parley:network-routes */';

/** The generated service worker's text with the static routes appended, registered at install. */
export function withNetworkRoutes(sw: string): string {
  if (sw.includes(MARK)) return sw;
  return `${sw}\n${MARK}\n;(${installNetworkRoutes.toString()})(self);\n`;
}

/**
 * The service worker and code updates, with consent (SECURITY.md P39).
 *
 * Each build's service worker is named by the build hash (`/sw-<hash>.js`, build-seal.ts), and the
 * page registers the one of the build it runs. The browser's own update checks fetch that URL
 * only, so a host that deploys another build changes nothing that runs here — even when the new
 * worker would call skipWaiting — until the user accepts it: the page polls parley-build.json,
 * the update prompt offers the new build, and accepting registers that build's worker and reloads
 * into it once it has taken over. A worker whose precached files do not match their pins fails to
 * install, and the update is refused with the running build kept.
 *
 * A worker that takes over the running page when no update was asked for (a host that changed
 * the file at the installed worker's URL) stops the page: BuildGate.replaced(). An update the
 * user accepted in ANOTHER tab takes this one over too, as its worker activates: that page
 * reloads like the one that asked (takeover.ts tells them apart). The boot check then judges
 * whatever loads next. Knows nothing of the vault or the screens.
 */
import { BUILD_FILE, isBuildHash, swUrl } from './build-seal';
import type { BuildGate } from './build-gate.svelte';
import { consentedTakeover } from './takeover';

/** How often a long-open page asks whether a new build exists (also on every return to the tab). */
export const UPDATE_CHECK_MS = 30 * 60_000;

export class UpdateError extends Error {
  override name = 'UpdateError';
  constructor(
    readonly code: 'NoUpdate' | 'InstallFailed',
    message: string
  ) {
    super(message);
  }
}

/** Set while a takeover this page asked for is under way: that controllerchange reloads. */
let expectingTakeover = false;
let started = false;
/** The running build's worker: 'pending' while it is being put in place, 'done' once it is. */
let ownWorker: 'idle' | 'pending' | 'done' = 'idle';

function serviceWorkers(): ServiceWorkerContainer | undefined {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
}

/** The first check waits for `after` at most this long (a vault that never answers holds back no update check). */
export const FIRST_CHECK_LATEST_MS = 10_000;

/**
 * Registers the running build's worker and starts watching for new builds and takeovers, first
 * once `after` settles (the vault started, ok or not): on a first visit registering starts the
 * precache, every file of the build fetched and hashed again, which would compete with the vault's
 * own start for the network and the CPU (README "Long conversations and first load", the
 * web.dev/Workbox advice to register after the page's own work). Takeovers are watched at once.
 */
export function startUpdates(gate: BuildGate, after: Promise<unknown> = Promise.resolve()): void {
  const running = gate.running;
  if (started || !running) return;
  started = true;
  const sw = serviceWorkers();
  let controller = sw?.controller?.scriptURL;
  sw?.addEventListener('controllerchange', () => {
    const now = sw.controller?.scriptURL;
    const consented = expectingTakeover || consentedTakeover(controller, now, gate.acceptedNow(), location.origin);
    controller = now;
    if (consented) location.reload();
    else gate.replaced();
  });
  const check = () => {
    if (sw) keepOwnWorker(sw, running);
    void checkForUpdate(gate);
  };
  void Promise.race([after.catch(() => undefined), new Promise((r) => setTimeout(r, FIRST_CHECK_LATEST_MS))]).then(check);
  setInterval(check, UPDATE_CHECK_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check();
  });
}

/** A failed switch is tried again this much later, a few times; after that at each check. */
const OWN_WORKER_RETRY_MS = 10_000;
const OWN_WORKER_QUICK_RETRIES = 3;
let quickRetries = 0;

/**
 * Puts the running build's worker in place, once. A switch that failed (its script or a file that
 * did not load while the new worker installed) is tried again 10 s later (three times), then at
 * every check, so an install from before hash-named workers does not stay on its old worker until
 * the next load.
 */
function keepOwnWorker(sw: ServiceWorkerContainer, running: string): void {
  if (ownWorker !== 'idle') return;
  ownWorker = 'pending';
  ensureOwnWorker(sw, running).then(
    () => (ownWorker = 'done'),
    (e: unknown) => {
      ownWorker = 'idle';
      console.warn(`Parley: this build's service worker is not in place yet (${e instanceof Error ? e.message : String(e)}); trying again later`);
      if (quickRetries++ < OWN_WORKER_QUICK_RETRIES) setTimeout(() => keepOwnWorker(sw, running), OWN_WORKER_RETRY_MS);
    }
  );
}

/** Asks the host which build it serves now; a different one is offered, never run. */
export async function checkForUpdate(gate: BuildGate): Promise<void> {
  try {
    // Not precached, so this always reaches the host.
    const r = await fetch(`/${BUILD_FILE}`, { cache: 'no-store' });
    if (!r.ok) return;
    const info = (await r.json()) as { build?: unknown; sw?: unknown };
    if (!isBuildHash(info.build) || info.sw !== swUrl(info.build)) return;
    gate.offered = info.build === gate.running ? undefined : info.build;
  } catch {
    // Offline or the host is down: ask again later.
  }
}

/** The user accepted the offered build: install its worker, let it take over, reload into it. */
export async function applyUpdate(gate: BuildGate): Promise<void> {
  const next = gate.offered;
  if (!next) throw new UpdateError('NoUpdate', 'no new build is offered');
  const undo = gate.acceptNext(next);
  const sw = serviceWorkers();
  if (!sw) {
    location.reload();
    return;
  }
  expectingTakeover = true;
  try {
    const worker = await install(sw, swUrl(next));
    // A page no worker controls gets no controllerchange from a worker that does not claim it.
    if (!sw.controller) {
      await until(worker, 'activated');
      location.reload();
    }
  } catch (e) {
    expectingTakeover = false;
    undo();
    throw e;
  }
}

/** The running build's worker is the registered one; another (older scheme, other build) is replaced. */
async function ensureOwnWorker(sw: ServiceWorkerContainer, running: string): Promise<void> {
  const url = new URL(swUrl(running), location.origin).href;
  const reg = await sw.getRegistration('/');
  if (reg?.active?.scriptURL === url) return;
  // Another build's worker controls this page: swapping it for ours is a takeover we asked for.
  // Only while we ask: after a failed switch, a takeover nobody asked for stops the page again.
  if (sw.controller) expectingTakeover = true;
  try {
    await install(sw, swUrl(running));
  } catch (e) {
    expectingTakeover = false;
    throw e;
  }
}

/** Registers `path` and activates it once installed; rejects if it does not install. */
async function install(sw: ServiceWorkerContainer, path: string): Promise<ServiceWorker> {
  let reg: ServiceWorkerRegistration;
  try {
    reg = await sw.register(path, { scope: '/', updateViaCache: 'none' });
  } catch (e) {
    throw new UpdateError('InstallFailed', `the service worker did not register (${e instanceof Error ? e.name : 'unknown'})`);
  }
  const worker = reg.installing ?? reg.waiting ?? reg.active;
  if (!worker) throw new UpdateError('InstallFailed', 'the registration has no worker');
  const state = await until(worker, 'installed');
  if (state === 'redundant') throw new UpdateError('InstallFailed', 'the new version failed to install: a file did not match its pinned hash, or did not load');
  // Ours never skips waiting by itself (registerType 'prompt'): tell it to, now that it is wanted.
  // Chromium then activates it once the outgoing worker has no work. If that worker was starting
  // when asked, Chromium waits for its ordinary idle stop (about 30 s of quiet) instead of hurrying
  // it, and asking again changes nothing (it acts on the first ask only); the page reloads into the
  // new worker whenever it takes over (controllerchange above).
  if (worker.state === 'installed') worker.postMessage({ type: 'SKIP_WAITING' });
  return worker;
}

const ORDER: ServiceWorkerState[] = ['parsed', 'installing', 'installed', 'activating', 'activated'];

/** Resolves with the worker's state once it has reached `target` (or later), or became redundant. */
function until(worker: ServiceWorker, target: 'installed' | 'activated'): Promise<ServiceWorkerState> {
  const reached = () => worker.state === 'redundant' || ORDER.indexOf(worker.state) >= ORDER.indexOf(target);
  if (reached()) return Promise.resolve(worker.state);
  return new Promise((resolve) => {
    const on = () => {
      if (!reached()) return;
      worker.removeEventListener('statechange', on);
      resolve(worker.state);
    };
    worker.addEventListener('statechange', on);
  });
}

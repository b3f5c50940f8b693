/**
 * "Notifications when Parley is closed" (README "Web Push with the tab closed"), the page's side:
 * subscribe this browser's service worker with the host's VAPID key (`pushManager.subscribe`,
 * `userVisibleOnly`) and have the vault register the endpoint for the account (the bearer token
 * stays in the vault); turning it off deletes the endpoint on the host and unsubscribes. Whether
 * it is on is the browser's own state: a push subscription exists for the registration.
 * Off by default; nothing happens until the user turns it on. Knows nothing of keys or messages.
 */
import { fromBase64Url } from '../../codec/base64url';
import { PUSH_API, type PushKey } from '../../wire/push-api';
import type { VaultContract } from '../../vault/contract';

export type ClosedPushState = 'unsupported' | 'off' | 'on';

export class ClosedPushError extends Error {
  override name = 'ClosedPushError';
  constructor(
    readonly code: 'Unsupported' | 'Denied' | 'NoWorker' | 'SubscribeFailed' | 'HostRefused',
    message: string
  ) {
    super(message);
  }
}

type Vault = Pick<VaultContract, 'registerPush' | 'unregisterPush'>;

function supported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined' && typeof Notification !== 'undefined';
}

/** The running build's worker registration, once it is active (it registers at start, sw-updates.ts). */
async function registration(): Promise<ServiceWorkerRegistration> {
  const reg = await Promise.race([navigator.serviceWorker.ready, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
  if (!reg) throw new ClosedPushError('NoWorker', 'the service worker is not running yet; reload Parley and try again');
  return reg;
}

export async function closedPushState(): Promise<ClosedPushState> {
  if (!supported()) return 'unsupported';
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription().catch(() => null);
  return sub && Notification.permission === 'granted' ? 'on' : 'off';
}

/** Asks for notification permission (on this click), subscribes and registers the endpoint. */
export async function turnOnClosedPush(vault: Vault): Promise<void> {
  if (!supported()) throw new ClosedPushError('Unsupported', 'this browser cannot receive pushes');
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  if (permission !== 'granted') throw new ClosedPushError('Denied', 'the browser blocked notifications for Parley');
  const reg = await registration();
  const keyRes = await fetch(PUSH_API.key, { cache: 'no-store' });
  if (!keyRes.ok) throw new ClosedPushError('HostRefused', `the host answered ${keyRes.status} for its push key`);
  const { publicKey } = (await keyRes.json()) as PushKey;
  const applicationServerKey = fromBase64Url(publicKey, 65);
  let sub: PushSubscription;
  try {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey as BufferSource });
  } catch (e) {
    throw new ClosedPushError('SubscribeFailed', `the browser's push service refused: ${e instanceof Error ? e.name : 'unknown'}`);
  }
  try {
    await vault.registerPush(sub.endpoint);
  } catch {
    await sub.unsubscribe().catch(() => false);
    throw new ClosedPushError('HostRefused', 'the host did not take the subscription');
  }
}

/** Deletes the endpoint on the host, then unsubscribes (both even if the other fails). */
export async function turnOffClosedPush(vault: Vault): Promise<void> {
  if (!supported()) return;
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription().catch(() => null);
  if (!sub) return;
  const host = vault.unregisterPush(sub.endpoint).then(
    () => true,
    () => false
  );
  await sub.unsubscribe().catch(() => false);
  if (!(await host)) throw new ClosedPushError('HostRefused', 'unsubscribed here, but the host could not be told; it stops pushing after its next failed push');
}

/**
 * The app's one call controller, wired to the vault: call signals go out through the ratchet
 * (VaultClient.sendCallSignal) and come back as `call` events on the session.
 */
import { appSession } from '../app.svelte';
import { CallController } from './controller.svelte';
import { connectTimeoutMs, relayOnly, ringTimeoutMs } from './settings';
import { tabCalls } from './tab-calls';

export { CallController } from './controller.svelte';
export type { CallPhase, CallPort, CallOptions } from './controller.svelte';

let controller: CallController | undefined;

export function callController(): CallController {
  if (!controller) {
    const session = appSession();
    controller = new CallController(
      {
        send: (username, signal) => session.vault.sendCallSignal(username, signal),
        record: (username, entry) => session.vault.recordCall(username, entry),
        armLockEnding: (username, ending) => session.vault.armCallEnding(username, ending ?? null),
        iceServers: () => session.vault.iceServers(),
        onSignal: (listener) =>
          session.on((e) => {
            if (e.type === 'call') listener(e.username, e.signal, e.contact);
          }),
        isContact: async (username) => (await session.vault.contactInfo(username)).accepted
      },
      { ringTimeoutMs: ringTimeoutMs(), connectTimeoutMs: connectTimeoutMs(), relayOnly, tabs: session.account ? tabCalls(session.account.username) : undefined }
    );
  }
  return controller;
}

/**
 * The app's one call controller, wired to the vault: call signals go out through the ratchet
 * (VaultClient.sendCallSignal) and come back as `call` events on the session.
 */
import { appSession } from '../app.svelte';
import { CallController } from './controller.svelte';
import { relayOnly, ringTimeoutMs } from './settings';
import { tabCalls } from './tab-calls';

export { CallController } from './controller.svelte';
export type { CallPhase, CallPort, CallOptions } from './controller.svelte';

let controller: CallController | undefined;

export function callController(): CallController {
  if (!controller) {
    const session = appSession();
    controller = new CallController(
      {
        send: (chat, signal) => session.vault.sendCallSignal(chat, signal),
        record: (chat, entry) => session.vault.recordCall(chat, entry),
        iceServers: () => session.vault.iceServers(),
        onSignal: (listener) =>
          session.on((e) => {
            if (e.type === 'call') listener(e.chat, e.signal);
          })
      },
      { ringTimeoutMs: ringTimeoutMs(), relayOnly, tabs: session.account ? tabCalls(session.account.username) : undefined }
    );
  }
  return controller;
}

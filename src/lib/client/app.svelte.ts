/**
 * The one vault client and session per page. Created on first use in the browser (the app is a
 * client-only SPA, so there is no server render to share them with).
 */
import { Session } from './session.svelte';
import { VaultClient } from './vault-client';

let client: VaultClient | undefined;
let session: Session | undefined;

export function vaultClient(): VaultClient {
  client ??= new VaultClient();
  return client;
}

/**
 * Stops the vault worker for good (P39: the page's code was replaced while open); nothing more
 * is decrypted or sent from this page. Only a reload starts Parley again.
 */
export function stopVault(): void {
  client?.terminate();
}

export function appSession(): Session {
  if (!session) {
    session = new Session(vaultClient().vault);
    void session.start();
  }
  return session;
}

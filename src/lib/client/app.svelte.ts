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

export function appSession(): Session {
  if (!session) {
    session = new Session(vaultClient().vault);
    void session.start();
  }
  return session;
}

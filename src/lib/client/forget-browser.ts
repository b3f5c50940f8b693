/**
 * "Remove this account from this browser" on the page's side (SECURITY.md P46): after the vault
 * worker deleted its own database, every other IndexedDB database of this origin, every Cache
 * Storage cache and the app's localStorage and sessionStorage entries go too.
 *
 * Kept: the hash of the build the user accepted (P39, `parley:accepted-build`): it is no account
 * data, and forgetting it would make the next visit trust whatever the host serves (first use).
 * The service worker stays registered; its precache holds only the public app code, and Workbox
 * fetches a deleted entry again with its pinned integrity. Knows nothing of the vault's contents.
 */
import { ACCEPTED_BUILD_KEY } from './pwa/build-gate.svelte';

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name);
    // A blocked deletion completes when the other connection closes; do not wait for it here.
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

export async function forgetThisBrowser(): Promise<void> {
  const databases = (await indexedDB.databases?.()) ?? [];
  await Promise.all(databases.flatMap((d) => (d.name ? [deleteDatabase(d.name)] : [])));
  if (typeof caches !== 'undefined') for (const name of await caches.keys()) await caches.delete(name);
  for (const key of Object.keys(localStorage)) if (key !== ACCEPTED_BUILD_KEY) localStorage.removeItem(key);
  sessionStorage.clear();
}

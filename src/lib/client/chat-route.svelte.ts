/**
 * Chat addresses that name nobody (SECURITY.md P46): `/chat/<route>`, where the route is the
 * person's username sealed under a key in the vault (src/lib/crypto/route-name.ts). The browser
 * stores every visited URL and title in its history files, which a copy of the profile carries
 * past the app lock; with these addresses they list chats, never people.
 */
import { untrack } from 'svelte';
import type { Username } from '../codec/username';
import type { Session } from './session.svelte';

/** The route segment of the chat with `username` (asks the vault unless the chat list has it). */
export async function chatRouteOf(session: Session, username: Username): Promise<string> {
  return (await chatRoutesOf(session, [username]))[username]!;
}

/** The route segments of the chats with `usernames`: the chat list's, and the rest in ONE vault call. */
export async function chatRoutesOf(session: Session, usernames: readonly Username[]): Promise<Record<Username, string>> {
  const out = Object.create(null) as Record<Username, string>; // no prototype: "__proto__" may be a username
  const ask: Username[] = [];
  for (const u of usernames) {
    const listed = session.chat(u)?.route;
    if (listed) out[u] = listed;
    else if (!Object.hasOwn(out, u)) {
      out[u] = '';
      ask.push(u);
    }
  }
  if (ask.length > 0) {
    const routes = await session.vault.chatRoutes(ask);
    ask.forEach((u, i) => (out[u] = routes[i]!));
  }
  return out;
}

/**
 * The person the current address names, kept in step with `segment()`: the chat list answers at
 * once when it holds the chat, the vault otherwise. `settled` turns true once the answer is in
 * (`person` undefined then means the address is no chat of this vault).
 */
export function routedPerson(session: Session, segment: () => string): { readonly person: Username | undefined; readonly settled: boolean } {
  let person = $state<Username | undefined>();
  let settled = $state(false);
  /** The segment `person` answers for (plain: the effect must not re-run on its own writes). */
  let answered: string | undefined;
  $effect(() => {
    const seg = segment();
    const listed = session.chats.find((c) => c.route === seg)?.username;
    if (listed) {
      answered = seg;
      if (untrack(() => person) !== listed) person = listed;
      settled = true;
      return;
    }
    // The chat list changing (a message elsewhere) must not reset a person the vault named.
    if (answered === seg) return;
    let live = true;
    settled = false;
    person = undefined;
    session.vault.openChatRoute(seg).then(
      (u) => {
        if (!live) return;
        answered = seg;
        person = u;
        settled = true;
      },
      () => {
        if (!live) return;
        person = undefined;
        settled = true;
      }
    );
    return () => {
      live = false;
    };
  });
  return {
    get person() {
      return person;
    },
    get settled() {
      return settled;
    }
  };
}

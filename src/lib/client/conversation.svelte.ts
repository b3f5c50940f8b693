/**
 * One open conversation: its messages and the contact's verification state, kept current from the
 * session's event stream. Marks incoming messages read while the page is visible (read receipts
 * are sent by the engine, end-to-end encrypted).
 *
 * Loaded in pages (DESIGN.md §8): the newest page first, older ones when the reader scrolls up
 * (`loadOlder`). Updated incrementally: an event that carries its message view patches that one
 * entry (placed by its sort position, P14/P36), a status event patches one status; only events
 * without a view (markers, notices, another tab's news) re-read the pages already loaded.
 */
import { errorCode, type Session } from './session.svelte';
import { placeMessage, type Placed } from './conversation-order';
import { quotedText, refreshQuotes } from './conversation-quotes';
import type { Username } from '../codec/username';
import type { ContactView, MessageView, VaultEvent } from '../vault/views';

/** Messages per page; the first is smaller (two screens), so a conversation opens fast. */
export const PAGE = 50;
export const FIRST_PAGE = 30;
/** Most extra pages read to reach the first unread message when a chat opens. */
export const MAX_UNREAD_PAGES = 10;

export class Conversation {
  /** The loaded part of the conversation, oldest first; replaced (never mutated) on each change. */
  messages = $state.raw<MessageView[]>([]);
  /** True while messages older than the first loaded one exist. */
  older = $state(false);
  contact = $state<ContactView | undefined>();
  loaded = $state(false);
  /** The first message that was unread when the chat opened: the "Unread messages" divider goes above it. */
  unreadFrom = $state<string | undefined>();
  error = $state<string | undefined>();
  blockedSending = $derived(this.contact?.sendBlocked ?? false);

  /** The person the conversation is with. */
  readonly username: Username;
  /** Note to self (README "Note to self"): our own username; no contact, nothing is sent. */
  readonly self: boolean;
  readonly #session: Session;
  readonly #off: () => void;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #loadingOlder: Promise<void> | undefined;
  /** Bumped by every patch: a re-read that started before one must not have the last word. */
  #version = 0;

  constructor(session: Session, username: Username) {
    this.#session = session;
    this.username = username;
    this.self = session.account?.username === username;
    this.#off = session.on((event) => this.#onEvent(event));
  }

  /**
   * The newest page first, shown as soon as it is read; then the contact's state (its safety
   * number takes the vault a while to compute, and only the composer waits for it).
   */
  async load(): Promise<void> {
    const page = this.#session.vault.listMessagePage(this.username, undefined, FIRST_PAGE);
    const contact = this.self ? Promise.resolve() : page.then(
      () => this.#session.vault.contactInfo(this.username).then((c) => void (this.contact = c)),
      () => undefined // the page's own error is reported below
    );
    contact.catch((e: unknown) => (this.error = errorCode(e)));
    try {
      const first = await page;
      this.messages = first.messages;
      this.older = first.older;
      await this.#findFirstUnread();
      this.loaded = true;
      this.markRead();
    } catch (e) {
      this.error = errorCode(e);
    }
    await contact.catch(() => undefined);
  }

  /**
   * Opening at the first unread message: older pages are read until it is loaded (at most
   * MAX_UNREAD_PAGES more, so a chat with thousands unread still opens fast; the divider then sits
   * on the oldest loaded one).
   */
  async #findFirstUnread(): Promise<void> {
    const unread = this.#session.chat(this.username)?.unread ?? 0;
    if (unread === 0) return;
    const incoming = () => this.messages.filter((m) => m.kind === 'text' && m.direction === 'in');
    for (let i = 0; i < MAX_UNREAD_PAGES && incoming().length < unread && this.older; i++) await this.#olderPage();
    const all = incoming();
    this.unreadFrom = all[Math.max(0, all.length - unread)]?.id;
  }

  /** Loads the page before the first loaded message; a second call while one runs waits for it. */
  loadOlder(): Promise<void> {
    if (!this.older || !this.loaded) return Promise.resolve();
    this.#loadingOlder ??= this.#olderPage().finally(() => (this.#loadingOlder = undefined));
    return this.#loadingOlder;
  }

  async #olderPage(): Promise<void> {
    const first = this.messages[0];
    try {
      const page = await this.#session.vault.listMessagePage(this.username, first && { sortAt: first.sortAt ?? first.at, id: first.id }, PAGE);
      // A local lookup, not state.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const known = new Set(this.messages.map((m) => m.id));
      this.messages = [...page.messages.filter((m) => !known.has(m.id)), ...this.messages];
      this.older = page.older;
    } catch {
      // Keep what is shown; scrolling up again retries.
    }
  }


  async send(text: string): Promise<void> {
    this.#patch(await this.#session.vault.sendText(this.username, text));
  }

  // ---- message actions (README "Message actions") ----

  async reply(quoteId: string, text: string): Promise<void> {
    this.#patch(await this.#session.vault.sendReply(this.username, quoteId, text));
  }

  /** Our reaction ('' takes it back); one row changes. */
  async react(id: string, emoji: string): Promise<void> {
    this.#patch(await this.#session.vault.react(this.username, id, emoji));
  }

  async edit(id: string, text: string): Promise<void> {
    this.#patch(await this.#session.vault.editMessage(this.username, id, text));
  }

  async deleteForEveryone(id: string): Promise<void> {
    this.#patch(await this.#session.vault.deleteForEveryone(this.username, id));
  }

  async deleteForMe(id: string): Promise<void> {
    await this.#session.vault.deleteForMe(this.username, id);
    this.#remove(id);
  }

  #remove(id: string): void {
    const next = this.messages.filter((m) => m.id !== id);
    if (next.length === this.messages.length) return;
    this.messages = refreshQuotes(next, id, undefined);
    this.#version++;
  }

  async acceptIdentityChange(): Promise<void> {
    await this.#session.vault.acceptIdentityChange(this.username);
    await this.#reloadContact();
  }

  /** Keeps the old safety number: nothing is sent to the new key (P36). */
  async rejectIdentityChange(): Promise<void> {
    await this.#session.vault.rejectIdentityChange(this.username);
    await this.#reloadContact();
  }

  /** The user's choice to send a text that was not sent because the key changed, to the key trusted now (P36). */
  async sendAgain(id: string): Promise<void> {
    this.#patch(await this.#session.vault.sendAgain(this.username, id));
  }

  /** P42: accept a message request (they get our profile key, receipts start). */
  async acceptRequest(): Promise<void> {
    await this.#session.vault.acceptRequest(this.username);
    await this.#reloadContact();
  }

  /** After a reply to a request (which accepts it): the request bar goes. */
  async reloadContact(): Promise<void> {
    await this.#reloadContact();
  }

  /** P42: delete a message request: its chat and messages go, nothing is sent. */
  async deleteRequest(): Promise<void> {
    await this.#session.vault.deleteRequest(this.username);
  }

  async block(): Promise<void> {
    await this.#session.vault.block(this.username);
    await this.#reloadContact();
  }

  async unblock(): Promise<void> {
    await this.#session.vault.unblock(this.username);
    await this.#reloadContact();
  }

  /** `fresh`: a message just arrived, so the chat list's unread count may not show it yet. */
  markRead(fresh = false): void {
    if (typeof document !== 'undefined' && document.visibilityState !== 'visible') return;
    const unread = this.#session.chat(this.username)?.unread ?? 0;
    if (fresh || unread > 0) this.#session.vault.markRead(this.username).catch(() => {});
  }

  destroy(): void {
    this.#off();
  }

  /** Puts one message (new, changed or moved) in its place among the loaded ones. */
  #patch(message: MessageView): Placed {
    const placed = placeMessage(this.messages, message, this.older);
    if (placed.messages !== this.messages) {
      this.messages = refreshQuotes(placed.messages, message.id, quotedText(message));
      this.#version++;
    }
    return placed;
  }

  async #reloadContact(): Promise<void> {
    await this.#reloadContactOnly();
    await this.#reloadLoaded();
  }

  /**
   * Re-reads the pages already loaded (as many messages as are shown, newest first) when an event
   * does not say what changed. Reads are serialised, and one that raced a patch runs again.
   */
  #reloadLoaded(): Promise<void> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        const version = this.#version;
        try {
          const page = await this.#session.vault.listMessagePage(this.username, undefined, Math.min(500, Math.max(PAGE, this.messages.length)));
          if (version !== this.#version) this.#reloadAgain = true;
          else {
            this.messages = page.messages;
            this.older = page.older;
          }
        } catch {
          // Keep what is shown; the next event retries.
        }
      } while (this.#reloadAgain);
    })().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  #onEvent(event: VaultEvent): void {
    if (!this.loaded) return;
    if (event.type === 'message' && event.username === this.username) {
      if (event.removed) return this.#remove(event.id);
      if (!event.message) {
        void this.#reloadLoaded().then(() => {
          const m = this.messages.find((x) => x.id === event.id);
          if (m?.kind === 'text' && m.direction === 'in') this.markRead(true);
        });
        return;
      }
      const known = this.messages.some((m) => m.id === event.id);
      this.#patch(event.message);
      // A reaction or an edit changes a message already shown: nothing new to mark read.
      if (!known && event.message.kind === 'text' && event.message.direction === 'in') this.markRead(true);
    } else if (event.type === 'status' && event.username === this.username) {
      const i = this.messages.findIndex((x) => x.id === event.id);
      const m = this.messages[i];
      if (m?.kind === 'text' && m.status !== event.status) this.#patch({ ...m, status: event.status });
    } else if (event.type === 'identity' && event.username === this.username) {
      void this.#reloadContact();
    } else if (event.type === 'chats') {
      void this.#reloadContactOnly();
    }
  }

  /** Block state changes arrive as a chat-list change. */
  async #reloadContactOnly(): Promise<void> {
    if (this.self) return;
    try {
      this.contact = await this.#session.vault.contactInfo(this.username);
    } catch {
      // Keep the last known state.
    }
  }
}

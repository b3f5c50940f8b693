/**
 * One open conversation: its messages and the contact's verification state, kept current from the
 * session's event stream. Marks incoming messages read while the page is visible (read receipts
 * are sent by the engine, end-to-end encrypted).
 */
import { errorCode, type Session } from './session.svelte';
import type { Username } from '../codec/username';
import type { ContactView, MessageView, VaultEvent } from '../vault/views';

export class Conversation {
  messages = $state<MessageView[]>([]);
  contact = $state<ContactView | undefined>();
  loaded = $state(false);
  error = $state<string | undefined>();
  blockedSending = $derived(this.contact?.sendBlocked ?? false);

  /** The person the conversation is with. */
  readonly username: Username;
  readonly #session: Session;
  readonly #off: () => void;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;

  constructor(session: Session, username: Username) {
    this.#session = session;
    this.username = username;
    this.#off = session.on((event) => this.#onEvent(event));
  }

  async load(): Promise<void> {
    try {
      const [messages, contact] = await Promise.all([
        this.#session.vault.listMessages(this.username),
        this.#session.vault.contactInfo(this.username)
      ]);
      this.messages = messages;
      this.contact = contact;
      this.loaded = true;
      this.markRead();
    } catch (e) {
      this.error = errorCode(e);
    }
  }

  async send(text: string): Promise<void> {
    const message = await this.#session.vault.sendText(this.username, text);
    this.#upsert(message);
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
    await this.#session.vault.sendAgain(this.username, id);
    await this.#reloadMessages();
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

  #upsert(message: MessageView): void {
    const i = this.messages.findIndex((m) => m.id === message.id);
    if (i >= 0) this.messages[i] = message;
    else this.messages.push(message);
  }

  async #reloadContact(): Promise<void> {
    await this.#reloadContactOnly();
    await this.#reloadMessages();
  }

  /**
   * Re-reads the log: a new or late message may slot in anywhere (ordered by send time, P14).
   * Reads are serialised and a burst of events collapses into one extra read, so a read that
   * started before a change never has the last word.
   */
  #reloadMessages(): Promise<void> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        try {
          this.messages = await this.#session.vault.listMessages(this.username);
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
      void this.#reloadMessages().then(() => {
        const m = this.messages.find((x) => x.id === event.id);
        if (m?.kind === 'text' && m.direction === 'in') this.markRead(true);
      });
    } else if (event.type === 'status' && event.username === this.username) {
      // Show it at once, then re-read so an in-flight read cannot leave a stale status behind.
      const m = this.messages.find((x) => x.id === event.id);
      if (m && m.kind === 'text') m.status = event.status;
      void this.#reloadMessages();
    } else if (event.type === 'identity' && event.username === this.username) {
      void this.#reloadContact();
    } else if (event.type === 'chats') {
      void this.#reloadContactOnly();
    }
  }

  /** Block state changes arrive as a chat-list change. */
  async #reloadContactOnly(): Promise<void> {
    try {
      this.contact = await this.#session.vault.contactInfo(this.username);
    } catch {
      // Keep the last known state.
    }
  }
}

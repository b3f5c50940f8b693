/**
 * What the tabs of one account tell each other (lock.ts; SECURITY.md P18, P31): the driver's
 * events for the followers, and a follower's "the outbox has new items". This file is the strict
 * codec of those messages: plain JSON bytes in, one of the known shapes out, or a DecodeFailed.
 *
 * Every field is checked — exact key sets, canonical usernames, bounded ids and codes, known
 * statuses and states, a call signal as canonical base64url of bounded size — so nothing a
 * channel delivers is passed on unless it is a message the driver could have sent. Sealing (who
 * may send) is lock.ts's job; this file only knows the shapes. Internal 'role' events never travel.
 */
import { fromBase64Url, toBase64Url } from '../../src/lib/codec/base64url';
import { fail } from '../../src/lib/codec/errors';
import { asUsername } from '../../src/lib/codec/username';
import { MessageStatus, type ConnectionState, type VaultEvent } from '../../src/lib/vault/views';

/** A call signal is tens of bytes (src/lib/wire/call.ts); this leaves room, not a megabyte. */
export const MAX_TAB_SIGNAL_BYTES = 1024;
const MAX_ID = 200;
const MAX_CODE = 64;

/** Driver -> followers: events; followers -> driver: "the outbox has new items". */
export type TabMessage = { kind: 'event'; event: VaultEvent } | { kind: 'kick' };

type Json = Record<string, unknown>;

const STATUSES: ReadonlySet<string> = new Set(Object.values(MessageStatus));
const STATES: ReadonlySet<string> = new Set<ConnectionState>(['connecting', 'online', 'offline']);

function object(v: unknown, what: string, keys: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('DecodeFailed', `tab message: ${what} is not an object`);
  const got = Object.keys(v);
  if (got.length !== keys.length || !got.every((k) => keys.includes(k))) {
    fail('DecodeFailed', `tab message: ${what} has ${got.length} fields, expected exactly ${keys.length}`);
  }
  return v as Json;
}

function text(v: unknown, what: string, max: number, pattern: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !pattern.test(v)) {
    fail('DecodeFailed', `tab message: ${what} is not 1-${max} characters of the allowed set`);
  }
  return v;
}

const id = (v: unknown) => text(v, 'id', MAX_ID, /^[\x21-\x7e]+$/);
const code = (v: unknown) => text(v, 'code', MAX_CODE, /^[A-Za-z0-9_]+$/);
const person = (v: unknown) => asUsername(v, 'DecodeFailed');

function decodeEvent(v: unknown): VaultEvent {
  const type = (v as Json | null)?.type;
  switch (type) {
    case 'message': {
      const o = object(v, 'message event', ['type', 'username', 'id']);
      return { type: 'message', username: person(o.username), id: id(o.id) };
    }
    case 'status': {
      const o = object(v, 'status event', ['type', 'username', 'id', 'status']);
      if (typeof o.status !== 'string' || !STATUSES.has(o.status)) fail('DecodeFailed', 'tab message: unknown message status');
      return { type: 'status', username: person(o.username), id: id(o.id), status: o.status as MessageStatus };
    }
    case 'receive-error': {
      const o = object(v, 'receive-error event', ['type', 'username', 'code']);
      return { type: 'receive-error', username: person(o.username), code: code(o.code) };
    }
    case 'identity': {
      const o = object(v, 'identity event', ['type', 'username']);
      return { type: 'identity', username: person(o.username) };
    }
    case 'profile': {
      const o = object(v, 'profile event', ['type', 'username']);
      return { type: 'profile', username: person(o.username) };
    }
    case 'connection': {
      const o = object(v, 'connection event', ['type', 'state']);
      if (typeof o.state !== 'string' || !STATES.has(o.state)) fail('DecodeFailed', 'tab message: unknown connection state');
      return { type: 'connection', state: o.state as ConnectionState };
    }
    case 'call': {
      const o = object(v, 'call event', ['type', 'username', 'signal', 'contact']);
      const signal = fromBase64Url(o.signal as string, MAX_TAB_SIGNAL_BYTES);
      if (signal.length === 0) fail('DecodeFailed', 'tab message: empty call signal');
      if (typeof o.contact !== 'boolean') fail('DecodeFailed', 'tab message: contact is not a boolean');
      return { type: 'call', username: person(o.username), signal, contact: o.contact };
    }
    case 'typing': {
      const o = object(v, 'typing event', ['type', 'username', 'typing']);
      if (typeof o.typing !== 'boolean') fail('DecodeFailed', 'tab message: typing is not a boolean');
      return { type: 'typing', username: person(o.username), typing: o.typing };
    }
    case 'chats':
      object(v, 'chats event', ['type']);
      return { type: 'chats' };
    case 'signed-out':
      object(v, 'signed-out event', ['type']);
      return { type: 'signed-out' };
    // P46: tabs lock, re-key and stop together ('unlocked' is each tab's own and never travels).
    case 'locked':
    case 'lock-changed':
    case 'removed':
      object(v, `${type} event`, ['type']);
      return { type };
    default:
      return fail('DecodeFailed', 'tab message: unknown event type');
  }
}

/** The message as JSON text (call signals as base64url). */
export function encodeTabMessage(m: TabMessage): string {
  if (m.kind === 'kick') return JSON.stringify({ kind: 'kick' });
  const e = m.event;
  if (e.type === 'message') {
    // The view stays in this tab: a follower re-reads the message from its own vault.
    return JSON.stringify({ kind: 'event', event: { type: e.type, username: e.username, id: e.id } });
  }
  return JSON.stringify({ kind: 'event', event: e.type === 'call' ? { ...e, signal: toBase64Url(e.signal) } : e });
}

/** Parses and checks one message; throws DecodeFailed for anything else. */
export function decodeTabMessage(json: string): TabMessage {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return fail('DecodeFailed', `tab message: ${json.length} characters that are not JSON`);
  }
  const kind = (v as Json | null)?.kind;
  if (kind === 'kick') {
    object(v, 'kick', ['kind']);
    return { kind: 'kick' };
  }
  if (kind !== 'event') fail('DecodeFailed', 'tab message: unknown kind');
  const o = object(v, 'event message', ['kind', 'event']);
  return { kind: 'event', event: decodeEvent(o.event) };
}

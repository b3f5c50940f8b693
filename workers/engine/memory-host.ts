/**
 * An in-memory host for engine tests (and a model of what the real host must do, DESIGN.md §5):
 * directory with one-time prekeys served once, durable-until-acked mailboxes, push on connect and
 * on arrival, challenge-signature auth. Hooks let a test play a MALICIOUS host: substitute
 * bundles, hold envelopes and push them reordered, duplicated, dropped or to the wrong mailbox.
 * Knows nothing of the engine's internals; speaks only HostTransport.
 */
import { fail } from '../../src/lib/codec/errors';
import { encodeIdentityPublic, type IdentityPublic } from '../../src/lib/crypto/identity';
import { usernameLookupHash } from '../../src/lib/crypto/username-hash';
import type { LookupAnswer } from '../../src/lib/wire/discovery-api';
import { Labels, labelBytes } from '../../src/lib/crypto/labels';
import type { KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic } from '../../src/lib/crypto/prekeys';
import { ed25519Verify } from '../../src/lib/crypto/primitives';
import { BUNDLE_VERSION, type PreKeyBundle } from '../../src/lib/crypto/bundle';
import { concatBytes, toHex } from '../../src/lib/codec/bytes';
import type { Envelope, HostAuth, HostTransport, InboxSink, PreKeyUpload, Registration } from './transport';
import { engineFail } from './errors';
import type { Username } from '../../src/lib/codec/username';

interface Account {
  identity: IdentityPublic;
  signedPreKey: SignedPreKeyPublic;
  oneTime: OneTimePreKeyPublic[];
  kem: KemPreKeyPublic[];
  lastResort?: KemPreKeyPublic;
}

export interface SentRecord {
  from: string;
  to: Username;
  body: Uint8Array;
}

export class MemoryHost {
  readonly accounts = new Map<string, Account>();
  readonly mailboxes = new Map<string, Envelope[]>();
  readonly sinks = new Map<string, InboxSink>();
  /** Every envelope accepted, in order (what a network observer would see). */
  readonly sent: SentRecord[] = [];
  /** When false, envelopes are stored but only pushed by push() or on reconnect. */
  autoPush = true;
  /** When false, every call fails Unavailable (host down). */
  up = true;
  /** Malicious hook: rewrite the bundle served for a username. */
  bundleHook?: (username: Username, bundle: PreKeyBundle) => PreKeyBundle;
  /** Malicious hook: rewrite the answer to an anonymous lookup (the name is what the hash matched, if any). */
  lookupHook?: (username: string | undefined, answer: LookupAnswer) => LookupAnswer;
  /** Every bundle handed out: who asked (authenticated) and for whom. */
  readonly bundleFetches: { by: string; of: Username }[] = [];
  /** Every anonymous lookup, by the hex of its hash: no asker is known, by design. */
  readonly lookups: string[] = [];
  /** Group state blobs by hex address, with the hex of the write token that first wrote each. */
  readonly groupBlobs = new Map<string, { sealed: Uint8Array; token: string }>();
  /** Fan-out uploads accepted (one per group send, however many members). */
  readonly groupUploads: { from: string; to: Username[]; body: Uint8Array }[] = [];
  private nextId = 1;
  private clock = 1_700_000_000_000;

  transport(): MemoryTransport {
    return new MemoryTransport(this);
  }

  checkAuth(auth: HostAuth): Account {
    this.checkUp();
    const acct = this.accounts.get(auth.username);
    if (!acct) engineFail('NoSuchUser', 'unknown account');
    const challenge = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const message = concatBytes(labelBytes(Labels.hostAuth), challenge);
    if (!ed25519Verify(acct.identity.signingKey, message, auth.sign(message))) fail('InvalidSignature', 'host auth signature');
    return acct;
  }

  checkUp(): void {
    if (!this.up) engineFail('Unavailable', 'host is down');
  }

  /** Stores an envelope for `to` and pushes it if allowed. */
  store(from: Username, to: Username, body: Uint8Array): Envelope {
    const env: Envelope = { serverId: String(this.nextId++), sender: from, body, receivedAt: this.clock++ };
    const box = this.mailboxes.get(to) ?? [];
    box.push(env);
    this.mailboxes.set(to, box);
    this.sent.push({ from, to, body });
    if (this.autoPush) this.deliverTo(to, env);
    return env;
  }

  /** Pushes an envelope (any envelope: a malicious host may push it to anyone, any number of times). */
  deliverTo(username: Username, env: Envelope): void {
    const sink = this.sinks.get(username);
    if (sink) queueMicrotask(() => sink.envelope({ ...env, body: env.body.slice() }));
  }

  /** Pushes held envelopes of `username` in the given order (default: mailbox order). */
  push(username: Username, order?: string[]): void {
    const box = this.mailboxes.get(username) ?? [];
    const ids = order ?? box.map((e) => e.serverId);
    for (const id of ids) {
      const env = box.find((e) => e.serverId === id);
      if (env) this.deliverTo(username, env);
    }
  }

  /** Deletes an envelope without delivering it (a host dropping a message, P14). */
  drop(username: Username, serverId: string): Envelope | undefined {
    const box = this.mailboxes.get(username) ?? [];
    const i = box.findIndex((e) => e.serverId === serverId);
    return i >= 0 ? box.splice(i, 1)[0] : undefined;
  }

  pending(username: Username): Envelope[] {
    return [...(this.mailboxes.get(username) ?? [])];
  }

  /** The account whose lookup hash is `hex`: hashes are memory-hard, so each name is hashed once per process. */
  nameOfHash(hex: string): string | undefined {
    for (const name of this.accounts.keys()) {
      let h = HASHES.get(name);
      if (h === undefined) HASHES.set(name, (h = toHex(usernameLookupHash(name))));
      if (h === hex) return name;
    }
    return undefined;
  }
}

const HASHES = new Map<string, string>();

export class MemoryTransport implements HostTransport {
  private connectedAs?: string;

  constructor(private readonly host: MemoryHost) {}

  async usernameAvailable(username: Username): Promise<boolean> {
    this.host.checkUp();
    return !this.host.accounts.has(username);
  }

  async register(auth: HostAuth, r: Registration): Promise<void> {
    this.host.checkUp();
    if (this.host.accounts.has(auth.username)) engineFail('UsernameTaken', 'username is taken');
    const message = concatBytes(labelBytes(Labels.hostAuth), new Uint8Array(32));
    if (!ed25519Verify(r.identity.signingKey, message, auth.sign(message))) fail('InvalidSignature', 'proof of possession');
    const lastResort = r.kemPreKeys.find((k) => k.lastResort);
    this.host.accounts.set(auth.username, {
      identity: r.identity,
      signedPreKey: r.signedPreKey,
      oneTime: [...r.oneTimePreKeys],
      kem: r.kemPreKeys.filter((k) => !k.lastResort),
      ...(lastResort ? { lastResort } : {})
    });
  }

  async lookup(hash: Uint8Array): Promise<LookupAnswer> {
    this.host.checkUp();
    const hex = toHex(hash);
    this.host.lookups.push(hex);
    const name = this.host.nameOfHash(hex);
    const acct = name === undefined ? undefined : this.host.accounts.get(name);
    const answer: LookupAnswer = acct ? { exists: true, identity: encodeIdentityPublic(acct.identity) } : { exists: false };
    return this.host.lookupHook ? this.host.lookupHook(name, answer) : answer;
  }

  async fetchBundle(auth: HostAuth, username: Username): Promise<PreKeyBundle> {
    this.host.checkAuth(auth);
    this.host.bundleFetches.push({ by: auth.username, of: username });
    const acct = this.host.accounts.get(username);
    if (!acct) engineFail('NoSuchUser', 'no such user');
    const kem = acct.kem.shift() ?? acct.lastResort;
    if (!kem) fail('MissingPrekey', 'no KEM prekey');
    const oneTime = acct.oneTime.shift();
    const bundle: PreKeyBundle = { version: BUNDLE_VERSION, username, identity: acct.identity, signedPreKey: acct.signedPreKey, kemPreKey: kem };
    if (oneTime) bundle.oneTimePreKey = oneTime;
    return this.host.bundleHook ? this.host.bundleHook(username, bundle) : bundle;
  }

  async preKeyCounts(auth: HostAuth): Promise<{ oneTime: number; kem: number }> {
    const acct = this.host.checkAuth(auth);
    return { oneTime: acct.oneTime.length, kem: acct.kem.length };
  }

  async uploadPreKeys(auth: HostAuth, upload: PreKeyUpload): Promise<void> {
    const acct = this.host.checkAuth(auth);
    acct.oneTime.push(...upload.oneTimePreKeys);
    acct.kem.push(...upload.kemPreKeys.filter((k) => !k.lastResort));
    if (upload.signedPreKey) acct.signedPreKey = upload.signedPreKey;
  }

  async send(auth: HostAuth, to: Username, body: Uint8Array): Promise<void> {
    this.host.checkAuth(auth);
    if (!this.host.accounts.has(to)) engineFail('NoSuchUser', 'no such recipient');
    this.host.store(auth.username, to, body.slice());
  }

  async groupSend(auth: HostAuth, to: readonly Username[], body: Uint8Array): Promise<void> {
    this.host.checkAuth(auth);
    this.host.groupUploads.push({ from: auth.username, to: [...to], body: body.slice() });
    for (const r of to) if (this.host.accounts.has(r)) this.host.store(auth.username, r, body.slice());
  }

  async putGroupBlob(address: Uint8Array, writeToken: Uint8Array, sealed: Uint8Array, nextToken?: Uint8Array): Promise<void> {
    const key = toHex(address);
    const held = this.host.groupBlobs.get(key);
    if (held && held.token !== toHex(writeToken)) fail('InvalidSignature', 'wrong write token for this group blob');
    this.host.groupBlobs.set(key, { sealed: sealed.slice(), token: toHex(nextToken ?? writeToken) });
  }

  async getGroupBlob(address: Uint8Array): Promise<Uint8Array | undefined> {
    return this.host.groupBlobs.get(toHex(address))?.sealed.slice();
  }

  async ack(auth: HostAuth, serverId: string): Promise<void> {
    this.host.checkAuth(auth);
    const box = this.host.mailboxes.get(auth.username) ?? [];
    const i = box.findIndex((e) => e.serverId === serverId);
    if (i >= 0) box.splice(i, 1);
  }

  connect(auth: HostAuth, sink: InboxSink): void {
    sink.state('connecting');
    try {
      this.host.checkAuth(auth);
    } catch {
      sink.state('offline');
      return;
    }
    this.connectedAs = auth.username;
    this.host.sinks.set(auth.username, sink);
    sink.state('online');
    // Redelivery of everything unacked, in mailbox order.
    for (const env of this.host.pending(auth.username)) this.host.deliverTo(auth.username, env);
  }

  disconnect(): void {
    if (this.connectedAs === undefined) return;
    const sink = this.host.sinks.get(this.connectedAs);
    this.host.sinks.delete(this.connectedAs);
    this.connectedAs = undefined;
    sink?.state('offline');
  }
}

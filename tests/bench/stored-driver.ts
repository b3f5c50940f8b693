/**
 * Parley as the vault worker really runs it, behind the benchmark `Driver` interface: every
 * message goes through the worker's per-message session path on IndexedDB (fake-indexeddb in
 * Node), with the real repositories and the real engine code, not copies of them:
 *
 *   send    (outbox.ts encryptItem, after sessions.ts sendingSessions: send-page.ts encryptRun)
 *           loadSessions(cached) -> sessionEncrypt each -> sealSessions once -> commit(putSessions)
 *           `encrypt` is a run of one (a message sent as it is written); `encryptPage` a run of
 *           the items queued for one contact
 *           (sendingSessions also reads the contact, in parallel; that read is left out)
 *   receive (inbox.ts receiveEnvelopes, one page: session-page.ts SessionPage)
 *           per envelope: decryptEnvelope on the page's sessions (receive-crypto.ts: the first from
 *           loadSessions, prekeys from the vault for a PreKeyMessage); then per page: the final
 *           sessions sealed once -> ONE commit(putSessionWrites). `decrypt` is a page of one
 *           (what an online receiver does per push); `decryptPage` a backlog page.
 *   start   (sessions.ts sendingSessions) loadSessions -> initiateSession -> sealSessions -> commit
 *
 * Each side has its own vault (loadVault: non-extractable wrapping key, data key), as two
 * browsers would. The other rows a real message also writes (the message, the chat, the outbox
 * item, a receipt) are left out: this arm measures what the crypto core costs once its state is
 * kept where the app keeps it, and nothing else. Bob's prekeys are read from his vault on every
 * handshake but never deleted (deleteConsumed is not run), so one bundle serves every handshake.
 * Each conversation uses fresh usernames, so every handshake starts from no stored session, as
 * with a new contact.
 */
import { asUsername, type Username } from '../../src/lib/codec/username';
import { systemDeps } from '../../src/lib/crypto/deps';
import { generateIdentity, identityPublic } from '../../src/lib/crypto/identity';
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  kemPreKeyPublic,
  oneTimePreKeyPublic,
  signedPreKeyPublic,
  type OneTimePreKey
} from '../../src/lib/crypto/prekeys';
import { initiateSession, peekMessageType } from '../../src/lib/crypto/session';
import { BUNDLE_VERSION, decodeBundle, encodeBundle } from '../../src/lib/crypto/bundle';
import type { EngineContext } from '../../workers/engine/context';
import { putSessionWrites, SessionPage } from '../../workers/engine/session-page';
import { encryptRun } from '../../workers/engine/send-page';
import { putPreKeys, sealPreKeys } from '../../workers/storage/prekey-repo';
import type { Sealed } from '../../workers/storage/schema';
import { loadSessions, putSessions, sealSessions } from '../../workers/storage/session-repo';
import { commit, loadVault, type Vault } from '../../workers/storage/vault';
import type { Conversation, Driver, Envelope, Handshake, Side } from './harness';

/** Sealed bytes at rest for one peer's sessions: the head row and every skipped-key row. */
async function storedBytes(vault: Vault, peer: Username): Promise<number> {
  const size = (s: Sealed) => s.iv.length + s.ct.length;
  const head = await vault.db.get('sessions', peer);
  const rows = await vault.db.getAll('skippedKeys', IDBKeyRange.bound(`${peer}/`, `${peer}/\uffff`));
  return (head ? size(head.sealed) : 0) + rows.reduce((n, r) => n + size(r.sealed), 0);
}

export async function storedDriver(): Promise<Driver> {
  const deps = systemDeps;
  const tag = `${process.pid}-${Date.now()}`;
  const vaults: Record<Side, Vault> = { a: await loadVault(`bench-alice-${tag}`), b: await loadVault(`bench-bob-${tag}`) };
  const alice = generateIdentity(deps);
  const bob = generateIdentity(deps);
  const spk = generateSignedPreKey(bob, 2, deps);
  const [opk] = generateOneTimePreKeys(1, 1, deps) as [OneTimePreKey];
  const kem = generateKemPreKey(bob, 3, true, deps);
  const records = sealPreKeys(vaults.b, { signed: spk, oneTime: [opk], kem: [kem] }, deps.now());
  await commit(vaults.b, (tx) => putPreKeys(tx, records));
  const bundleFor = (username: Username) =>
    encodeBundle({
      version: BUNDLE_VERSION,
      username,
      identity: identityPublic(bob),
      signedPreKey: signedPreKeyPublic(spk),
      oneTimePreKey: oneTimePreKeyPublic(opk),
      kemPreKey: kemPreKeyPublic(kem)
    });
  let conversations = 0;

  async function handshake(first: Uint8Array<ArrayBuffer>): Promise<Handshake> {
    const k = conversations++;
    const names: Record<Side, Username> = { a: asUsername(`alice${k}`), b: asUsername(`bob${k}`) };
    const peer = (s: Side) => names[s === 'a' ? 'b' : 'a'];
    // What receive-crypto.ts reads of the engine context: the vault, deps and who we are.
    const bobCtx = { vault: vaults.b, deps, me: { username: names.b, identity: bob } } as EngineContext;

    // sessions.ts sendingSessions: a new session goes in front of the stored ones, then is committed.
    const existing = await loadSessions(vaults.a, names.b);
    const started = initiateSession({ ourIdentity: alice, ourUsername: names.a, theirUsername: names.b, bundle: decodeBundle(bundleFor(names.b)) }, deps);
    const startRecord = await sealSessions(vaults.a, names.b, [started, ...existing]);
    await commit(vaults.a, (tx) => putSessions(tx, startRecord));

    /** outbox.ts `encryptItem`'s session path for one run: cached sessions, encrypt each, seal once, one commit. */
    async function send(from: Side, plaintexts: Uint8Array<ArrayBuffer>[]): Promise<Envelope[]> {
      const vault = vaults[from];
      const sessions = await loadSessions(vault, peer(from), { cached: true });
      if (sessions.length === 0) throw new Error(`${from} has no session`);
      const { messages, write } = await encryptRun(vault, peer(from), sessions, plaintexts, deps);
      await commit(vault, (tx) => putSessions(tx, write));
      return messages.map((bytes) => ({ bytes, prekey: peekMessageType(bytes) === 'prekey' }));
    }

    /** inbox.ts `receiveEnvelopes`' session path for one page: decrypt each, seal once, one commit. */
    async function receive(to: Side, envs: Envelope[]): Promise<Uint8Array[]> {
      if (to === 'a' && envs.some((e) => e.prekey)) throw new Error('alice never receives a prekey message here');
      const ctx = to === 'b' ? bobCtx : ({ vault: vaults.a, deps, me: { username: names.a, identity: alice } } as EngineContext);
      const page = new SessionPage();
      const out: Uint8Array[] = [];
      for (const [k, env] of envs.entries()) {
        const d = await page.decrypt(ctx, { serverId: `bench-${k}`, sender: peer(to), body: env.bytes, receivedAt: 0 });
        page.follow(peer(to), d.sessions);
        out.push(d.plaintext);
      }
      const writes = await page.seal(vaults[to]);
      await commit(vaults[to], (tx) => putSessionWrites(tx, writes));
      return out;
    }

    const conversation: Conversation = {
      async encrypt(from: Side, plaintext: Uint8Array<ArrayBuffer>): Promise<Envelope> {
        const [env] = await send(from, [plaintext]);
        return env!;
      },
      encryptPage: (from: Side, plaintexts: Uint8Array<ArrayBuffer>[]) => send(from, plaintexts),
      async decrypt(to: Side, env: Envelope): Promise<Uint8Array> {
        const [plaintext] = await receive(to, [env]);
        return plaintext!;
      },
      decryptPage: (to: Side, envs: Envelope[]) => receive(to, envs),
      async stateSizes() {
        return { a: await storedBytes(vaults.a, names.b), b: await storedBytes(vaults.b, names.a) };
      }
    };

    const firstMessage = await conversation.encrypt('a', first);
    const received = await conversation.decrypt('b', firstMessage);
    return { conversation, firstMessage, received };
  }

  return { name: 'stored', handshake };
}

/**
 * The part of the stored path no session layout can avoid: the worker's commit (one readwrite
 * transaction, vault.ts) putting one row of a session head's size, with nothing sealed or encoded.
 * Returns one such commit as a step, for the benchmark to time.
 */
export async function bareCommit(): Promise<() => Promise<void>> {
  const vault = await loadVault(`bench-floor-${process.pid}-${Date.now()}`);
  const row = { username: asUsername('floor'), sealed: { iv: new Uint8Array(24), ct: new Uint8Array(800) } };
  return () => commit(vault, async (tx) => void (await tx.objectStore('sessions').put(row)));
}

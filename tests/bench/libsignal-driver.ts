/**
 * The benchmark's anchor: Signal's own library (@signalapp/libsignal-client, Rust via N-API) run
 * through the same `Driver` interface as Parley.
 *
 * Stores are in-memory and keep native record handles (no serialize/deserialize per call), which
 * is the fastest way libsignal can be driven: the comparison is conservative for Parley.
 * Trust decisions always succeed (Parley's core has no identity store either).
 */
import {
  CiphertextMessageType,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt
} from '@signalapp/libsignal-client';
import type { Conversation, Driver, Envelope, Handshake, Side } from './harness';

class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.sessions.set(name.toString(), record);
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    return this.sessions.get(name.toString()) ?? null;
  }
  /** Synchronous read for size reporting. */
  peek(name: ProtocolAddress): SessionRecord | undefined {
    return this.sessions.get(name.toString());
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => {
      const s = this.sessions.get(a.toString());
      if (!s) throw new Error(`no session for ${a.toString()}`);
      return s;
    });
  }
}

class MemoryIdentityStore extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();
  constructor(
    private readonly identity: IdentityKeyPair,
    private readonly registrationId: number
  ) {
    super();
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.identity.privateKey;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const old = this.known.get(name.toString());
    this.known.set(name.toString(), key);
    return old && !old.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(): Promise<boolean> {
    return true;
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.known.get(name.toString()) ?? null;
  }
}

/** Bob's prekeys. Used one-time keys are kept so every benchmark handshake can use the same bundle. */
class MemoryPreKeys {
  readonly preKeys = new (class extends PreKeyStore {
    readonly map = new Map<number, PreKeyRecord>();
    async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
      this.map.set(id, record);
    }
    async getPreKey(id: number): Promise<PreKeyRecord> {
      const r = this.map.get(id);
      if (!r) throw new Error(`no prekey ${id}`);
      return r;
    }
    async removePreKey(): Promise<void> {}
  })();
  readonly signedPreKeys = new (class extends SignedPreKeyStore {
    readonly map = new Map<number, SignedPreKeyRecord>();
    async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
      this.map.set(id, record);
    }
    async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
      const r = this.map.get(id);
      if (!r) throw new Error(`no signed prekey ${id}`);
      return r;
    }
  })();
  readonly kyberPreKeys = new (class extends KyberPreKeyStore {
    readonly map = new Map<number, KyberPreKeyRecord>();
    async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
      this.map.set(id, record);
    }
    async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
      const r = this.map.get(id);
      if (!r) throw new Error(`no kyber prekey ${id}`);
      return r;
    }
    async markKyberPreKeyUsed(): Promise<void> {}
  })();
}

/** The bundle as bytes, the way a client receives it from a server. */
interface BundleBytes {
  registrationId: number;
  deviceId: number;
  preKeyId: number;
  preKey: Uint8Array<ArrayBuffer>;
  signedPreKeyId: number;
  signedPreKey: Uint8Array<ArrayBuffer>;
  signedPreKeySignature: Uint8Array<ArrayBuffer>;
  identityKey: Uint8Array<ArrayBuffer>;
  kyberPreKeyId: number;
  kyberPreKey: Uint8Array<ArrayBuffer>;
  kyberPreKeySignature: Uint8Array<ArrayBuffer>;
}

interface Party {
  address: ProtocolAddress;
  identity: IdentityKeyPair;
  registrationId: number;
}

export function libsignalDriver(): Driver {
  const alice: Party = { address: ProtocolAddress.new('alice', 1), identity: IdentityKeyPair.generate(), registrationId: 1111 };
  const bob: Party = { address: ProtocolAddress.new('bob', 1), identity: IdentityKeyPair.generate(), registrationId: 2222 };

  const bobKeys = new MemoryPreKeys();
  const preKey = PrivateKey.generate();
  const signedPreKey = PrivateKey.generate();
  const kyber = KEMKeyPair.generate();
  const signedPreKeySignature = bob.identity.privateKey.sign(signedPreKey.getPublicKey().serialize());
  const kyberPreKeySignature = bob.identity.privateKey.sign(kyber.getPublicKey().serialize());
  bobKeys.preKeys.map.set(1, PreKeyRecord.new(1, preKey.getPublicKey(), preKey));
  bobKeys.signedPreKeys.map.set(2, SignedPreKeyRecord.new(2, Date.now(), signedPreKey.getPublicKey(), signedPreKey, signedPreKeySignature));
  bobKeys.kyberPreKeys.map.set(3, KyberPreKeyRecord.new(3, Date.now(), kyber, kyberPreKeySignature));
  const bundle: BundleBytes = {
    registrationId: bob.registrationId,
    deviceId: 1,
    preKeyId: 1,
    preKey: preKey.getPublicKey().serialize(),
    signedPreKeyId: 2,
    signedPreKey: signedPreKey.getPublicKey().serialize(),
    signedPreKeySignature,
    identityKey: bob.identity.publicKey.serialize(),
    kyberPreKeyId: 3,
    kyberPreKey: kyber.getPublicKey().serialize(),
    kyberPreKeySignature
  };

  async function handshake(first: Uint8Array<ArrayBuffer>): Promise<Handshake> {
    // Fresh stores: each handshake is a new pair of sessions, never an archived-session lookup.
    const stores = {
      a: { sessions: new MemorySessionStore(), identity: new MemoryIdentityStore(alice.identity, alice.registrationId) },
      b: { sessions: new MemorySessionStore(), identity: new MemoryIdentityStore(bob.identity, bob.registrationId) }
    };
    const parties = { a: alice, b: bob };

    const conversation: Conversation = {
      async encrypt(from: Side, plaintext: Uint8Array<ArrayBuffer>): Promise<Envelope> {
        const to = from === 'a' ? 'b' : 'a';
        const ct = await signalEncrypt(plaintext, parties[to].address, parties[from].address, stores[from].sessions, stores[from].identity);
        return { bytes: ct.serialize(), prekey: ct.type() === CiphertextMessageType.PreKey };
      },
      async decrypt(to: Side, env: Envelope): Promise<Uint8Array> {
        const from = to === 'a' ? 'b' : 'a';
        const bytes = env.bytes as Uint8Array<ArrayBuffer>;
        const { sessions, identity } = stores[to];
        if (env.prekey) {
          return signalDecryptPreKey(
            PreKeySignalMessage.deserialize(bytes),
            parties[from].address,
            parties[to].address,
            sessions,
            identity,
            bobKeys.preKeys,
            bobKeys.signedPreKeys,
            bobKeys.kyberPreKeys
          );
        }
        return signalDecrypt(SignalMessage.deserialize(bytes), parties[from].address, parties[to].address, sessions, identity);
      },
      stateSizes() {
        const size = (s: Side) => {
          const rec = stores[s].sessions.peek(parties[s === 'a' ? 'b' : 'a'].address);
          return rec ? rec.serialize().length : 0;
        };
        return { a: size('a'), b: size('b') };
      }
    };

    const b = PreKeyBundle.new(
      bundle.registrationId,
      bundle.deviceId,
      bundle.preKeyId,
      PublicKey.deserialize(bundle.preKey),
      bundle.signedPreKeyId,
      PublicKey.deserialize(bundle.signedPreKey),
      bundle.signedPreKeySignature,
      PublicKey.deserialize(bundle.identityKey),
      bundle.kyberPreKeyId,
      KEMPublicKey.deserialize(bundle.kyberPreKey),
      bundle.kyberPreKeySignature
    );
    await processPreKeyBundle(b, bob.address, alice.address, stores.a.sessions, stores.a.identity);
    const firstMessage = await conversation.encrypt('a', first);
    const received = await conversation.decrypt('b', firstMessage);
    return { conversation, firstMessage, received };
  }

  return { name: 'libsignal', handshake };
}

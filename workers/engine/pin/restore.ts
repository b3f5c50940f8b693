/**
 * Restoring an account on a new browser (DESIGN.md §7): username + PIN -> realms give
 * the master secret -> the host gives the sealed account record -> identity, our profile key and
 * profile, settings, contacts (with the SAME trusted keys and verification state, their profile
 * keys, whether they are still a message request, chat flags) and block list go into this vault -> fresh prekeys
 * under the same identity replace the old browser's on the host (takeover, proven with the
 * takeover key from the master secret, P37), which signs the old browser out. Safety numbers do
 * not change: the identity key pair is the one from the record. This browser then keeps only the
 * derived keys (keys.ts), like any other; the master secret is wiped. A secret that could not be
 * tested (tampered realm answers, delays) is reported as such, never as a wrong PIN (P38).
 *
 * Order: nothing is written until the record has opened; keys are committed locally before the
 * takeover, and erased again if the host refuses, so a retry starts clean (as account.ts does).
 * Groups come back after the takeover, from their blobs on the host (restore-groups.ts).
 */
import { openAccountRecord } from '../../../src/lib/crypto/account-record';
import { fail } from '../../../src/lib/codec/errors';
import { encodeIdentityPublic } from '../../../src/lib/crypto/identity';
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey, kemPreKeyPublic, oneTimePreKeyPublic, signedPreKeyPublic } from '../../../src/lib/crypto/prekeys';
import { wipe } from '../../../src/lib/crypto/primitives';
import { getAccount, putAccount, putDevice, putIdentity, sealDevice, sealIdentity } from '../../storage/account-repo';
import { DEVICE_SECRET_LEN } from '../../../src/lib/wire/host-api';
import { updateChat } from '../../storage/chat-repo';
import { putContact } from '../../storage/contact-repo';
import { putMessage } from '../../storage/message-repo';
import { applySettings } from '../account-settings';
import { PRIVACY_META_KEY } from '../privacy-settings';
import { SEALED_ACCESS_META_KEY } from '../sealed-access';
import { notice, NoticeKind } from '../notices';
import { restoredContact, restoredChat } from './restore-contacts';
import { putPendingGroups } from './pending-groups';
import { restoreGroups } from './restore-groups';
import { putPinState, sealPinState, type PinState } from '../../storage/pin-repo';
import { MIN_PASSPHRASE_GUESSES_LOG10, canonicalRecoverySecret, parseRecoveryKey } from '../../../src/lib/crypto/pin/secret-policy';
import { signTakeover, takeoverKeyPair } from '../../../src/lib/crypto/pin/takeover-key';
import { deriveRecoveryKeys } from './keys';
import { problemOf, realmName } from './outcomes';
import { estimateGuessesLog10 } from './strength';
import { putPreKeys, sealPreKeys, type NewPreKeys } from '../../storage/prekey-repo';
import { ALL_STORES, type AccountRecord as LocalAccount } from '../../storage/schema';
import { commit, resetVault } from '../../storage/vault';
import { canonicalUsername, hostAuth, KEM_TARGET, ONE_TIME_TARGET } from '../account';
import type { EngineContext } from '../context';
import { recoverWithPin } from '../recovery/recovery';
import { localVerifier, requireRecovery } from './pin';
import { recordAccessKey } from './record';
import { firstReminder } from './reminder';
import type { RestoreOutcome } from '../../../src/lib/vault/views';
import type { Username } from '../../../src/lib/codec/username';
import { profileKeyFingerprint, putProfileKey } from '../profile-key';
import { putMyProfile, restoreProfile } from '../profiles';

/** What kind of secret restored this account (decides whether a local reminder verifier is safe). */
async function kindOf(secretText: string, username: Username): Promise<PinState['kind']> {
  if (parseRecoveryKey(secretText)) return 'recoveryKey';
  return (await estimateGuessesLog10(secretText, [username])) >= MIN_PASSPHRASE_GUESSES_LOG10 ? 'passphrase' : 'pin';
}

/** Fresh prekey ids far from the old browser's, so a stale message never meets a same-id key. */
function idBase(ctx: EngineContext): number {
  const r = ctx.deps.rng(3);
  return 1_000_000 + ((r[0]! << 16) | (r[1]! << 8) | r[2]!) * 16;
}

export async function restoreAccount(ctx: EngineContext, name: string, pin: string): Promise<RestoreOutcome> {
  const username = canonicalUsername(name);
  const rc = requireRecovery(ctx);
  const { transport, deps } = ctx;
  if (!transport.getAccountRecord || !transport.takeover) fail('NotInitialized', 'this host transport cannot restore accounts');
  if (!ctx.vault.lost && (await getAccount(ctx.vault))?.registered) fail('InvalidArgument', 'this browser already holds an account');

  const secretText = canonicalRecoverySecret(pin);
  const outcome = await recoverWithPin({ username, pin: secretText, realms: rc.realms, threshold: rc.threshold }, deps, rc.fetch, rc.stretch ? { stretch: rc.stretch } : {});
  if (!('ok' in outcome)) return problemOf(outcome, rc.realms)!;
  const secret = outcome.ok;
  const takeover = takeoverKeyPair(secret, username);
  try {
    const sealed = await transport.getAccountRecord(username, recordAccessKey(secret));
    if (!sealed) return { status: 'notRegistered' };
    const record = openAccountRecord(sealed, secret, username);
    const kind = await kindOf(secretText, username);
    const identity = record.identity;

    const base = idBase(ctx);
    const signed = generateSignedPreKey(identity, base, deps);
    const lastResort = generateKemPreKey(identity, base, true, deps);
    const oneTime = generateOneTimePreKeys(base, ONE_TIME_TARGET, deps);
    const kem = [lastResort];
    for (let i = 0; i < KEM_TARGET; i++) kem.push(generateKemPreKey(identity, base + 1 + i, false, deps));
    const keys: NewPreKeys = { signed, oneTime, kem };
    const account: LocalAccount = {
      username,
      createdAt: deps.now(),
      registered: false,
      nextOneTimeId: base + ONE_TIME_TARGET,
      nextKemId: base + 1 + KEM_TARGET,
      nextSignedId: base + 1
    };
    const localSalt = deps.rng(32);
    const pinState: PinState = {
      keys: deriveRecoveryKeys(secret, username, rc.realms),
      kind,
      registeredAt: deps.now(),
      // A short PIN gets no local verifier (P37: it would be an offline PIN test on this device).
      ...(kind === 'pin' ? {} : { localSalt, verifier: localVerifier(ctx, secretText, username, localSalt) }),
      profileKey: record.profileKey,
      ...firstReminder(deps.now())
    };
    // The user chose to restore: a lost vault (P33) is reset now, and only now.
    if (ctx.vault.lost) await resetVault(ctx.vault);
    const sealedId = await sealIdentity(ctx.vault, identity);
    const prekeys = sealPreKeys(ctx.vault, keys, deps.now());
    const sealedPin = await sealPinState(ctx.vault, pinState);
    const device = deps.rng(DEVICE_SECRET_LEN);
    const sealedDevice = await sealDevice(ctx.vault, device);
    const blocked = new Set(record.blocked);
    await commit(ctx.vault, async (tx) => {
      for (const s of ALL_STORES) if (s !== 'meta') await tx.objectStore(s).clear();
      await putAccount(tx, account);
      await putIdentity(tx, sealedId);
      await putPreKeys(tx, prekeys);
      await putPinState(tx, sealedPin);
      await putDevice(tx, sealedDevice);
      // P43: the profile key comes back, so the profile blob on the host is ours again.
      await putProfileKey(tx, record.profileKey);
      await putMyProfile(tx, { displayName: record.profile.displayName === username ? '' : record.profile.displayName, about: record.profile.about ?? '', avatar: null });
      await applySettings(tx, record.settings);
      const ourKey = profileKeyFingerprint(record.profileKey);
      for (const c of record.contacts) {
        await putContact(tx, restoredContact(c, encodeIdentityPublic(c.identity), blocked.has(c.username), ourKey));
        await updateChat(tx, c.username, (chat) => restoredChat(chat, c));
        // Messages are not in the record: the chat says so (as Signal does).
        await putMessage(tx, notice(ctx, c.username, NoticeKind.restored));
      }
    });
    const me = { username, identity, device };
    try {
      await transport.takeover(
        hostAuth(me),
        { signedPreKey: signedPreKeyPublic(signed), oneTimePreKeys: oneTime.map(oneTimePreKeyPublic), kemPreKeys: kem.map(kemPreKeyPublic) },
        (challenge) => signTakeover(takeover.privateKey, challenge, username, device)
      );
    } catch (e) {
      await commit(ctx.vault, async (tx) => {
        for (const s of ALL_STORES) if (s !== 'meta') await tx.objectStore(s).clear();
        for (const k of ['account', 'identity', 'pin', 'device', 'profileKey', 'profile', PRIVACY_META_KEY, SEALED_ACCESS_META_KEY]) await tx.objectStore('meta').delete(k);
      });
      throw e;
    }
    await commit(ctx.vault, (tx) => putAccount(tx, { ...account, registered: true }));
    ctx.me = me;
    await restoreProfile(ctx);
    const groups = await restoreGroups(ctx, record.groups);
    // Not fetched now is not forgotten: tried again on connect, kept in the backup (pending-groups.ts).
    await commit(ctx.vault, (tx) => putPendingGroups(tx, groups.missingEntries));
    return {
      status: 'restored',
      username,
      contacts: record.contacts.length,
      blocked: blocked.size,
      suspectRealms: outcome.suspectRealms.map((i) => realmName(rc.realms[i]!)),
      groups: groups.restored,
      groupsMissing: groups.missing
    };
  } finally {
    wipe(secret, takeover.privateKey);
  }
}

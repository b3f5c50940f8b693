/**
 * Double Ratchet limits, in one place with the reason for each (libsignal keeps its own in
 * `consts.rs`). DESIGN.md §4 fixes the values; the ratchet and the state codec both enforce them.
 *
 * This module knows nothing of keys or encodings.
 */

/**
 * Signal Double Ratchet §3.5 MAX_SKIP: the most message keys one chain may skip for one incoming
 * message. Bounds the KDF work a single (possibly forged) header can make us do before the AEAD
 * check, and lets ordinary losses and reordering through.
 */
export const MAX_SKIP = 1000;

/**
 * Stored skipped message keys per session. One message can skip at most MAX_SKIP on the old chain
 * plus MAX_SKIP on the new one, so this is exactly one worst-case message; a hostile peer repeating
 * it only evicts older keys (oldest first) instead of growing storage.
 */
export const MAX_SKIPPED_KEYS = 2 * MAX_SKIP;

/**
 * Old receiving chains remembered (their public ratchet key and final length). They let a late
 * message still find its skipped key and let a replay from a finished chain be named
 * DuplicateMessage; a chain older than this is forgotten together with its skipped keys.
 * Matches libsignal's MAX_RECEIVER_CHAINS.
 */
export const MAX_OLD_CHAINS = 5;

/**
 * Skipped keys are deleted after this long (measured with deps.now()): a key kept forever is a
 * key a later device compromise can use, and DESIGN.md §5 retains undelivered envelopes for the
 * same 30 days, so nothing older can legitimately still arrive.
 */
export const SKIPPED_KEY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Message numbers are u32 on the wire; the last value is reserved so `n + 1` (the next expected
 * number) always still fits in a u32 in the stored state.
 */
export const MAX_MESSAGE_NUMBER = 0xffff_fffe;

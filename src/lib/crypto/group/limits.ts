/**
 * Group limits, in one place with the reason for each (as ratchet/limits.ts for 1:1). Codecs and
 * rules both enforce them. Knows nothing of keys or encodings.
 */
import { MAX_SKIP, MAX_SKIPPED_KEYS } from '../ratchet/limits';

/** Members per group: Signal's limit, and the size the group benchmark is held to. */
export const MAX_MEMBERS = 1000;

/** Pending join requests (invite link with approval): bounded so a leaked link cannot grow the state without limit. */
export const MAX_PENDING = 256;

/** Actions in one change: enough to create a group with its first 100 members in one step. */
export const MAX_ACTIONS = 128;

/** Name and description, in UTF-8 bytes (the UI shows less). */
export const MAX_NAME_BYTES = 128;
export const MAX_DESCRIPTION_BYTES = 2048;
/**
 * The group picture, carried inline in the state (so it is encrypted wherever the state is, and
 * no host fetch links members to it): a JPEG the editor's browser re-encoded (avatar-image.ts).
 * 16 KiB keeps a picture and a small group's history inside the state blob's first 32 KiB bucket
 * (state-blob.ts) and a welcome for a large group under the ratchet's 240 KiB history bound.
 */
export const MAX_AVATAR_BYTES = 16 * 1024;

/** One encoded change (128 additions of ~180 bytes plus signatures fit comfortably). */
export const MAX_CHANGE_BYTES = 64 * 1024;

/**
 * How far below the head the history keeps states (group-history.ts). A concurrent change based
 * on a kept state is merged by the fork-choice rule; one based below is refused as RolledBack.
 * 32 versions is many minutes of a busy group's churn; the cost is the blob size (state-blob.ts).
 */
export const HISTORY_DEPTH = 32;

/** Changes held while their base has not arrived (reordering); the oldest is dropped beyond this. */
export const MAX_ORPHANS = 64;

/**
 * Sender keys (P21): the most message keys one message may make a receiver skip, and the most it
 * stores per sender: the 1:1 ratchet's bounds (DESIGN.md §4), for the same reasons.
 */
export const MAX_SENDER_KEY_JUMP = MAX_SKIP;
export const MAX_SENDER_SKIPPED_KEYS = MAX_SKIPPED_KEYS;

/** Changes (all branches) kept above the anchor: a bound on what a misbehaving admin's sibling spam can store. */
export const MAX_HISTORY_CHANGES = 512;

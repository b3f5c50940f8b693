/**
 * Disappearing messages on the wire (SECURITY.md P44; README "Disappearing messages"): content
 * kinds 0x11 and 0x12 of wire/content.ts, both inside the ratchet, so the host learns neither the
 * timer nor that a chat has one.
 *
 *   kind 0x11 timer:    seconds u32 (one of TIMER_SECONDS) || setAt u64 (sender clock, ms)
 *                       "from now on, messages in this chat disappear after `seconds` (0 = off)"
 *   kind 0x12 expiring: seconds u32 (one of TIMER_SECONDS, not 0) || the content it wraps, without
 *                       its version byte (a text kind or an attachment, never another 0x12)
 *   kind 0x13 timed:    seconds u32 (one of TIMER_SECONDS, 0 allowed) || setAt u64 || the content
 *                       it wraps, as 0x12: a message sent under the chat setting (seconds, setAt)
 * A message carries the timer it was sent under (as Signal's DataMessage.expireTimer), so it
 * expires under that timer even if the chat's changes later. 0x13 also carries when that setting
 * was made (as Signal's expireTimerVersion), so a recipient that never got the change (a dropped
 * envelope) learns it from the next message, and one sent under an older setting cannot undo a
 * newer change. Writers send 0x13 once the chat has had a timer; 0x12 is still read. Each
 * wrapper is a kind of its own, so a client that does not know it refuses it (UnsupportedVersion)
 * instead of keeping forever a text its sender meant to disappear.
 *
 * A timer outside the list is refused (DecodeFailed naming the value), never rounded: both sides
 * must agree on exactly what was set. Pure: knows nothing of chats, storage or clocks.
 */
import { fail } from '../codec/errors';
import type { ByteReader, ByteWriter } from '../codec/bytes';

/** The timers a chat may have, in seconds: off, 5 min, 1 hour, 8 hours, 1 day, 1 week, 4 weeks. */
export const TIMER_SECONDS = [0, 300, 3600, 28_800, 86_400, 604_800, 2_419_200] as const;
export type TimerSeconds = (typeof TIMER_SECONDS)[number];

/** A change of the chat's timer (kind 0x11), made at `setAt` by the sender's clock. */
export type TimerContent = { kind: 'timer'; seconds: TimerSeconds; setAt: number };

export function isTimerSeconds(n: unknown): n is TimerSeconds {
  return typeof n === 'number' && (TIMER_SECONDS as readonly number[]).includes(n);
}

/** `code`: InvalidArgument when we write, DecodeFailed when we read. */
export function checkTimer(n: number, code: 'InvalidArgument' | 'DecodeFailed'): TimerSeconds {
  if (!isTimerSeconds(n)) fail(code, `a disappearing timer of ${n} seconds is not one of ${TIMER_SECONDS.join(', ')}`);
  return n;
}

export function writeTimer(w: ByteWriter, c: TimerContent): ByteWriter {
  return w.u32(checkTimer(c.seconds, 'InvalidArgument')).u64(c.setAt);
}

export function readTimer(r: ByteReader): TimerContent {
  const seconds = checkTimer(r.u32(), 'DecodeFailed');
  const setAt = r.u64();
  r.end();
  return { kind: 'timer', seconds, setAt };
}

/** The chat setting a message is sent under (kind 0x13): the timer (0 = off) and when it was set. */
export type TimedSetting = { seconds: TimerSeconds; setAt: number };

export function writeTimed(w: ByteWriter, t: TimedSetting): ByteWriter {
  return w.u32(checkTimer(t.seconds, 'InvalidArgument')).u64(t.setAt);
}

export function readTimed(r: ByteReader): TimedSetting {
  const seconds = checkTimer(r.u32(), 'DecodeFailed');
  return { seconds, setAt: r.u64() };
}

/** The timer a message is sent under (kind 0x12): never 0, which is "no wrapper". */
export function readExpiring(r: ByteReader): TimerSeconds {
  const seconds = checkTimer(r.u32(), 'DecodeFailed');
  if (seconds === 0) fail('DecodeFailed', 'an expiring message with the timer off');
  return seconds;
}

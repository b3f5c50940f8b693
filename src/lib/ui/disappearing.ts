/**
 * How the screens name disappearing timers (SECURITY.md P44; README "Disappearing messages"):
 * the choices in the order shown, their labels, the header badge's short form, and the sentence
 * for a timer notice's code ("disappearing:in:86400", workers/engine/disappearing.ts). Pure text.
 */
import { TIMER_SECONDS } from '../wire/disappearing-content';

const LABELS: Record<number, string> = { 0: 'Off', 300: '5 minutes', 3600: '1 hour', 28_800: '8 hours', 86_400: '1 day', 604_800: '1 week', 2_419_200: '4 weeks' };
const SHORT: Record<number, string> = { 300: '5m', 3600: '1h', 28_800: '8h', 86_400: '1d', 604_800: '1w', 2_419_200: '4w' };

/** The choices, off first. */
export const TIMER_CHOICES: readonly { seconds: number; label: string }[] = TIMER_SECONDS.map((seconds) => ({ seconds, label: LABELS[seconds]! }));

export function timerLabel(seconds: number): string {
  return LABELS[seconds] ?? `${seconds} seconds`;
}

/** The header badge: "5m", "1h", "8h", "1d", "1w", "4w". */
export function timerShort(seconds: number): string {
  return SHORT[seconds] ?? `${seconds}s`;
}

/** A timer notice, or undefined if `code` is not one: "You set…" / "alice set…" / "…turned off…". */
export function timerNoticeText(code: string, username: string): string | undefined {
  const m = /^disappearing:(in|out):(\d+)$/.exec(code);
  if (!m) return undefined;
  const who = m[1] === 'out' ? 'You' : username;
  const seconds = Number(m[2]);
  return seconds === 0 ? `${who} turned off disappearing messages` : `${who} set disappearing messages to ${timerLabel(seconds).toLowerCase()}`;
}

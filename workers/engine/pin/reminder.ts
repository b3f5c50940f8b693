/**
 * Spaced PIN reminders (DESIGN.md §7, after Signal): the user is asked to type the PIN again
 * after 1, 3, 7, 14, then every 30 days. A correct entry moves one step further apart, a wrong
 * one (or "forgot") one step closer, so a PIN that is remembered is asked for rarely and one that
 * is shaky is practised. Pure: state in, state out; time comes from the caller.
 */
const DAY_MS = 24 * 60 * 60 * 1000;

export const REMINDER_INTERVALS_MS: readonly number[] = [1, 3, 7, 14, 30].map((d) => d * DAY_MS);

export interface ReminderState {
  level: number;
  nextReminderAt: number;
}

export function firstReminder(now: number): ReminderState {
  return { level: 0, nextReminderAt: now + REMINDER_INTERVALS_MS[0]! };
}

export function afterEntry(s: ReminderState, correct: boolean, now: number): ReminderState {
  const top = REMINDER_INTERVALS_MS.length - 1;
  const level = correct ? Math.min(top, s.level + 1) : Math.max(0, s.level - 1);
  return { level, nextReminderAt: now + REMINDER_INTERVALS_MS[level]! };
}

export function reminderDue(s: ReminderState, now: number): boolean {
  return now >= s.nextReminderAt;
}

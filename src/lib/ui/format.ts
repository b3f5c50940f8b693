/**
 * Display formatting for times, dates and safety numbers. Pure functions of their inputs (the
 * current time is a parameter) so screens stay consistent within one render.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * One formatter per pattern, made on first use: `toLocale*String` with options builds a new
 * Intl.DateTimeFormat on every call, which dominated drawing a list of 50 search results.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(undefined, options)));
  return f;
}

/** "14:05" for a time of day, in the user's locale. */
export function timeOfDay(t: number): string {
  return formatter({ hour: 'numeric', minute: '2-digit' }).format(t);
}

/** Chat list time: time today, "Yesterday", weekday within a week, else a short date. */
export function listTime(t: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(t)) / DAY_MS);
  if (days <= 0) return timeOfDay(t);
  if (days === 1) return 'Yesterday';
  if (days < 7) return formatter({ weekday: 'short' }).format(t);
  return formatter({ day: 'numeric', month: 'short', year: '2-digit' }).format(t);
}

/** Date separator in a conversation: "Today", "Yesterday" or a full date. */
export function dayLabel(t: number, now: number): string {
  const days = Math.round((startOfDay(now) - startOfDay(t)) / DAY_MS);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = new Date(t).getFullYear() === new Date(now).getFullYear();
  return new Date(t).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' })
  });
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** 60 digits -> 12 groups of 5, the way Signal shows them; anything else is returned as groups of whatever is there. */
export function safetyGroups(digits: string): string[] {
  const clean = digits.replace(/\D/g, '');
  const groups: string[] = [];
  for (let i = 0; i < clean.length; i += 5) groups.push(clean.slice(i, i + 5));
  return groups;
}

/** The first user-perceived character, upper-cased, for avatars. */
export function initial(name: string): string {
  const first = Array.from(name.trim())[0] ?? '?';
  return first.toLocaleUpperCase();
}

/**
 * Records keyed by usernames (reactions by who reacted, seal keys by member). A username is
 * `[a-z0-9_.]{3,32}`, which admits "constructor" and "__proto__": on a plain object the first is
 * inherited (`rec.constructor` is `Object`, `"constructor" in rec` is true) and assigning the
 * second sets the object's prototype instead of adding an entry. So entries are read only when
 * they are the record's own, and records are written only through `Object.fromEntries`, which
 * defines "__proto__" as an ordinary own entry (as JSON.parse and structured clone read it back).
 * Imports nothing.
 */

/** `name`'s entry, if the record has one of its own. */
export function entryOf<V>(rec: Readonly<Record<string, V>> | undefined, name: string): V | undefined {
  return rec !== undefined && Object.hasOwn(rec, name) ? rec[name] : undefined;
}

/** A copy of `rec` with `name`'s entry removed (value undefined) or set, a set entry placed last. */
export function withEntry<V>(rec: Readonly<Record<string, V>> | undefined, name: string, value: V | undefined): Record<string, V> {
  const rest = Object.entries(rec ?? {}).filter(([k]) => k !== name);
  return Object.fromEntries(value === undefined ? rest : [...rest, [name, value]]);
}

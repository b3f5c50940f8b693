/**
 * The quick reaction row in the device's skin tone (README "Emoji picker"): each emoji that takes
 * a tone shows in `tone`, except where our current reaction is a form of it, which shows as we
 * sent it (so it still reads as ours and pressing it removes it). Pure.
 */
import { emojiEntry, glyphOf } from './emoji-data';
import type { SkinTone } from './skin-tone';

export function quickRow(quick: readonly string[], tone: SkinTone, mine: string | undefined): string[] {
  const ours = mine ? emojiEntry(mine) : undefined;
  return quick.map((e) => {
    const entry = emojiEntry(e);
    if (!entry) return e;
    if (ours === entry && mine) return mine;
    return glyphOf(entry, tone);
  });
}

/**
 * Suggestions while typing in the composer (README "Emoji picker": `:shortcode`; README "Groups":
 * mentions): a suggester says which query the caret ends (":thu", "@be"), what it offers for it,
 * and what choosing an option does to the text. The composer asks each in turn and shows the
 * first that offers something as one listbox under the text box's aria-activedescendant
 * (SuggestList.svelte); this module knows nothing of emoji or members. Pure.
 */

export type SuggestMatch = { start: number; query: string };

export type SuggestOption = {
  /** Unique among the options shown. */
  readonly key: string;
  /** The option's accessible name and visible text. */
  readonly label: string;
  /** Shown before the label, hidden from screen readers (the label says it). */
  readonly icon?: string;
};

export interface Suggester {
  /** The listbox's id; options are `${id}-${index}`. */
  readonly id: string;
  /** The listbox's accessible name. */
  readonly label: string;
  find(text: string, caret: number): SuggestMatch | undefined;
  options(match: SuggestMatch): readonly SuggestOption[];
  /** `text` with the match (ending at `caret`) replaced by the option; undefined if it would not fit `maxChars`. */
  apply(text: string, match: SuggestMatch, caret: number, option: SuggestOption, maxChars: number): { text: string; caret: number } | undefined;
  /** What a screen reader hears when the list opens or changes: "3 emoji". */
  announce(count: number): string;
}

export type Suggestion = { suggester: Suggester; match: SuggestMatch; options: readonly SuggestOption[] };

/** The first suggester with options for the caret; none when there is a selection (caret < 0) or the caret is outside the text. */
export function suggestAt(suggesters: readonly Suggester[], text: string, caret: number): Suggestion | undefined {
  if (caret < 0 || caret > text.length) return undefined;
  for (const suggester of suggesters) {
    const match = suggester.find(text, caret);
    if (!match) continue;
    const options = suggester.options(match);
    if (options.length > 0) return { suggester, match, options };
  }
  return undefined;
}

/** The active option after ArrowDown/ArrowUp in a list of `count`: wrapping at both ends. */
export function moveActive(active: number, count: number, key: 'ArrowDown' | 'ArrowUp'): number {
  if (count <= 0) return 0;
  return (active + (key === 'ArrowDown' ? 1 : -1) + count) % count;
}

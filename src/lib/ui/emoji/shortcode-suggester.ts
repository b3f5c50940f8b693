/**
 * The composer's `:shortcode` suggester (README "Emoji picker"): emoji-shortcode.ts behind the
 * composer's suggestion listbox (composer-suggest.ts). Options show in the skin tone kept on this
 * device, and a choice counts as a pick for the picker's Recent row, as a pick in the panel does.
 */
import type { Suggester } from '../composer-suggest';
import { emojiEntry } from './emoji-data';
import { deviceStorage, rememberRecent } from './emoji-recents';
import { applyShortcode, shortcodeOptions, shortcodeQuery } from './emoji-shortcode';
import { loadTone } from './skin-tone';

export const SHORTCODE_LIST_ID = 'emoji-shortcodes';

export const shortcodeSuggester: Suggester = {
  id: SHORTCODE_LIST_ID,
  label: 'Matching emoji',
  find: shortcodeQuery,
  options: (m) => shortcodeOptions(m.query, loadTone(deviceStorage())).map((o) => ({ key: o.glyph, label: o.entry.name, icon: o.glyph })),
  apply(text, match, caret, option, maxChars) {
    if (!emojiEntry(option.key)) return undefined;
    const r = applyShortcode(text, match, caret, option.key, maxChars);
    if (r) rememberRecent(deviceStorage(), option.key);
    return r;
  },
  announce: (n) => `${n} emoji`
};

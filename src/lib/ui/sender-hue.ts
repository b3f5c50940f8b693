/**
 * A stable colour per member name in a group conversation (README "Groups": sender names and
 * colours), the same hash and palette as Avatar.svelte so a member's name and avatar match.
 */
export const SENDER_HUES: readonly number[] = [211, 262, 330, 12, 32, 150, 180, 280];

export function senderHue(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return SENDER_HUES[h % SENDER_HUES.length]!;
}

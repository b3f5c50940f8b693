/**
 * Sender names in a group (README "Groups": sender names and colours) are coloured per member
 * from a fixed palette of hues. Every hue, at the lightness the theme sets for each scheme, must
 * keep WCAG AA contrast (4.5:1) on the incoming bubble and on the quote strip inside it: a name
 * is no less readable for the hash that picked its colour.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SENDER_HUES } from '../../src/lib/ui/sender-hue';

const theme = readFileSync(new URL('../../src/routes/theme.css', import.meta.url), 'utf8');
const [light, dark] = theme.split('@media (prefers-color-scheme: dark)');

function variable(css: string, name: string): string {
  const m = new RegExp(`--${name}:\\s*([^;]+);`).exec(css);
  if (!m) throw new Error(`theme.css has no --${name}`);
  return m[1]!.trim();
}

type Rgb = [number, number, number];
const hex = (s: string): Rgb => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16)) as Rgb;
function hsl(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}
const over = (bg: Rgb, alphaBlack: number): Rgb => bg.map((c) => c * (1 - alphaBlack)) as Rgb;
function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
const percent = (v: string) => Number(v.replace('%', '')) / 100;

describe.each([
  ['light', light!],
  ['dark', dark!],
])('sender name colours, %s scheme', (_, css) => {
  const bubble = hex(variable(css, 'bubble-in'));
  const s = percent(variable(theme, 'sender-s'));
  const l = percent(variable(css, 'sender-l'));
  it.each(SENDER_HUES.map((h) => [h]))('hue %i keeps 4.5:1 on the bubble and on a quote in it', (h) => {
    const name = hsl(h, s, l);
    expect(contrast(name, bubble)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(name, over(bubble, 0.06))).toBeGreaterThanOrEqual(4.5);
  });
});

/**
 * Renders the PWA icons in static/icons/ from the Parley logo with headless Chromium, so the PNGs
 * match the SVG exactly. Run once after changing the logo:
 *   node --import tsx tests/e2e/support/make-icons.ts
 * "any" icons keep the logo's rounded square on transparency; "maskable" icons fill the whole
 * square with the brand colour and keep the glyph inside the 80% safe zone (W3C manifest §maskable).
 */
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('../../../static/icons/', import.meta.url));
const GLYPH = `
  <path d="M16 18h32a6 6 0 0 1 6 6v14a6 6 0 0 1-6 6H30l-9 8v-8h-5a6 6 0 0 1-6-6V24a6 6 0 0 1 6-6z" fill="#fff"/>
  <rect x="25" y="29" width="14" height="10" rx="2" fill="#1f6feb"/>
  <path d="M28 29v-3a4 4 0 0 1 8 0v3" fill="none" stroke="#1f6feb" stroke-width="2.5"/>`;

const anySvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="16" fill="#1f6feb"/>${GLYPH}</svg>`;
// Scale the glyph to 70% around the centre so it stays inside the maskable safe zone.
const maskableSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#1f6feb"/><g transform="translate(32 33) scale(0.7) translate(-32 -35)">${GLYPH}</g></svg>`;

const icons = [
  { file: 'icon-192.png', size: 192, svg: anySvg },
  { file: 'icon-512.png', size: 512, svg: anySvg },
  { file: 'maskable-192.png', size: 192, svg: maskableSvg },
  { file: 'maskable-512.png', size: 512, svg: maskableSvg },
  { file: 'apple-touch-icon-180.png', size: 180, svg: maskableSvg }
];

const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  for (const icon of icons) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size } });
    const html = `<style>html,body{margin:0;background:transparent}svg{display:block;width:${icon.size}px;height:${icon.size}px}</style>${icon.svg}`;
    await page.setContent(html);
    await page.screenshot({ path: OUT + icon.file, omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`wrote ${icons.length} icons to ${OUT}`);

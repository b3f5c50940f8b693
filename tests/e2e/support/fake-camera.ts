/**
 * A camera for the QR scanner tests: Chromium's fake capture device reads a Y4M file, which this
 * writes from a picture on another page — the other person's QR code as their screen shows it.
 * Chromium opens the file when a capture starts, so one browser can be shown different pictures
 * one scan after another.
 */
import { writeFileSync } from 'node:fs';
import type { Locator } from '@playwright/test';

export const CAMERA_SIDE = 480;

/** Luma (0..255) of `img` drawn centred at 80% on a white square, as a screen held to a camera. */
export async function lumaOf(img: Locator): Promise<Uint8Array> {
  const b64 = await img.evaluate((el, side) => {
    const image = el as HTMLImageElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = side;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, side, side);
    const inner = Math.round(side * 0.8);
    ctx.drawImage(image, (side - inner) / 2, (side - inner) / 2, inner, inner);
    const { data } = ctx.getImageData(0, 0, side, side);
    let s = '';
    for (let i = 0; i < data.length; i += 4) s += String.fromCharCode(Math.round(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!));
    return btoa(s);
  }, CAMERA_SIDE);
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

/** A grey picture with nothing to read. */
export function blankLuma(): Uint8Array {
  return new Uint8Array(CAMERA_SIDE * CAMERA_SIDE).fill(150);
}

/** Writes `luma` as a few identical 4:2:0 frames (chroma neutral) of a Y4M file Chromium loops over. */
export function writeY4m(path: string, luma: Uint8Array, frames = 5): void {
  const side = CAMERA_SIDE;
  const header = Buffer.from(`YUV4MPEG2 W${side} H${side} F10:1 Ip A1:1 C420jpeg\n`);
  const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), Buffer.from(luma), chroma]);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}

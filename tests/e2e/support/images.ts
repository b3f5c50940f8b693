/**
 * Test pictures for the picture flows (profiles, group info): a photo-like JPEG the browser draws,
 * and the same JPEG with an EXIF block (GPS position and a description marker) spliced in, so a
 * spec can prove the page re-encodes what it shares (P43; group pictures, P19 state).
 */
import { expect, type Page } from '@playwright/test';

export const GPS_MARKER = 'PARLEY-EXIF-MARKER the secret garden';

/** A big-endian TIFF with ImageDescription and a GPS IFD (latitude N 52° 22' 8"), wrapped as APP1. */
function exifSegment(): Buffer {
  const desc = Buffer.from(GPS_MARKER + '\0', 'latin1');
  const t = Buffer.alloc(92 + desc.length);
  t.write('MM', 0, 'latin1');
  t.writeUInt16BE(42, 2);
  t.writeUInt32BE(8, 4);
  t.writeUInt16BE(2, 8); // IFD0: 2 entries
  t.writeUInt16BE(0x010e, 10); // ImageDescription, ASCII
  t.writeUInt16BE(2, 12);
  t.writeUInt32BE(desc.length, 14);
  t.writeUInt32BE(92, 18);
  t.writeUInt16BE(0x8825, 22); // GPSInfo IFD pointer
  t.writeUInt16BE(4, 24);
  t.writeUInt32BE(1, 26);
  t.writeUInt32BE(38, 30);
  t.writeUInt32BE(0, 34);
  t.writeUInt16BE(2, 38); // GPS IFD: 2 entries
  t.writeUInt16BE(0x0001, 40); // GPSLatitudeRef "N"
  t.writeUInt16BE(2, 42);
  t.writeUInt32BE(2, 44);
  t.write('N\0\0\0', 48, 'latin1');
  t.writeUInt16BE(0x0002, 52); // GPSLatitude, 3 rationals
  t.writeUInt16BE(5, 54);
  t.writeUInt32BE(3, 56);
  t.writeUInt32BE(68, 60);
  t.writeUInt32BE(0, 64);
  [52, 1, 22, 1, 8, 1].forEach((v, i) => t.writeUInt32BE(v, 68 + i * 4));
  desc.copy(t, 92);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** A photo-like JPEG drawn by the browser, `w` x `h`, in `hue`. */
export async function drawnJpeg(page: Page, w: number, h: number, hue: number): Promise<Buffer> {
  const url = await page.evaluate(
    ([w, h, hue]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, `hsl(${hue} 70% 60%)`);
      grad.addColorStop(1, `hsl(${(hue + 60) % 360} 70% 35%)`);
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      g.fillStyle = 'rgba(255,255,255,0.85)';
      g.beginPath();
      g.arc(w / 2, h / 2.4, Math.min(w, h) / 5, 0, Math.PI * 2);
      g.fill();
      g.fillRect(w / 2 - Math.min(w, h) / 3.5, h / 1.6, Math.min(w, h) / 1.75, h);
      return c.toDataURL('image/jpeg', 0.92);
    },
    [w, h, hue] as const
  );
  return Buffer.from(url.split(',')[1]!, 'base64');
}

export function withExif(jpeg: Buffer): Buffer {
  expect(jpeg.readUInt16BE(0)).toBe(0xffd8);
  return Buffer.concat([jpeg.subarray(0, 2), exifSegment(), jpeg.subarray(2)]);
}

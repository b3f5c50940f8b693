/**
 * Images a user attaches (README "Attachments"; SECURITY.md P1): decoded by the browser and drawn
 * onto a fresh canvas, then re-encoded from those pixels alone, as avatar-image.ts does for
 * profile pictures, so no EXIF (GPS position, camera, time), ICC, XMP or comment of the original
 * survives, in the file sent or in its thumbnail. EXIF orientation is applied to the pixels.
 * Animated GIFs arrive as their first frame (PNG). Main thread only; knows nothing of the vault.
 */
/** Longest side of a sent photo: larger ones are scaled down. */
export const MAX_IMAGE_SIDE = 2560;
export const THUMBNAIL_SIDE = 320;
/** Under MAX_THUMBNAIL_BYTES (wire/attachment-content.ts), with room to spare. */
export const THUMBNAIL_MAX_BYTES = 40_000;

export class AttachmentImageError extends Error {}

async function draw(file: Blob, maxSide: number, type: string, qualities: readonly number[], maxBytes = Infinity): Promise<Uint8Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new AttachmentImageError('that file is not an image this browser can read');
  }
  try {
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d');
    if (!ctx) throw new AttachmentImageError('this browser cannot draw images');
    if (type === 'image/jpeg') {
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, w, h);
    }
    ctx.drawImage(bitmap, 0, 0, w, h);
    for (const quality of qualities) {
      const bytes = new Uint8Array(await (await c.convertToBlob({ type, quality })).arrayBuffer());
      if (bytes.length <= maxBytes) return bytes;
    }
    throw new AttachmentImageError(`the thumbnail does not compress below ${maxBytes} bytes`);
  } finally {
    bitmap.close();
  }
}

/** The image to send, re-encoded without metadata: PNG and WebP keep their type, the rest become JPEG or PNG. */
export async function cleanImage(file: Blob): Promise<{ bytes: Uint8Array; mime: string }> {
  const mime = file.type === 'image/png' || file.type === 'image/webp' ? file.type : file.type === 'image/gif' ? 'image/png' : 'image/jpeg';
  return { bytes: await draw(file, MAX_IMAGE_SIDE, mime, [0.92]), mime };
}

/** A small JPEG preview that travels inside the message. */
export function thumbnailOf(file: Blob): Promise<Uint8Array> {
  return draw(file, THUMBNAIL_SIDE, 'image/jpeg', [0.8, 0.65, 0.5, 0.35], THUMBNAIL_MAX_BYTES);
}

/** Image types the attach flow re-encodes (everything else is sent as a file, untouched). */
export const isPickedImage = (type: string): boolean => ['image/jpeg', 'image/png', 'image/webp', 'image/gif'].includes(type);

/**
 * Avatar images for private profiles (SECURITY.md P43): whatever the user picks is decoded by the
 * browser, centre-cropped, drawn onto a fresh canvas at AVATAR_SIZE square and re-encoded as JPEG
 * from those pixels alone, so nothing of the original file survives: no EXIF (GPS position,
 * camera, time), no ICC or XMP blocks, no comments, no thumbnail. Quality steps down until the
 * result fits AVATAR_MAX_BYTES, which keeps every avatar profile in the 32 KiB bucket of
 * src/lib/crypto/profile.ts (the host learns "has an avatar", not its size).
 * A group picture uses the same path at GROUP_AVATAR_SIZE and the group state's bound (P19 state:
 * crypto/group/limits.ts MAX_AVATAR_BYTES), since it rides inline in every copy of the state.
 * Main thread only (DOM canvas or OffscreenCanvas); knows nothing of the vault.
 */
export const AVATAR_SIZE = 256;
/** Fits the 32 KiB profile bucket with a full display name and about text beside it. */
export const AVATAR_MAX_BYTES = 30_000;
/** Group pictures: smaller, because the state carries them to every member (shown at most ~96 px). */
export const GROUP_AVATAR_SIZE = 192;
const QUALITIES = [0.85, 0.75, 0.65, 0.55, 0.45, 0.35];

export class AvatarImageError extends Error {}

function canvas(size: number): { ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D; encode(q: number): Promise<Blob> } {
  if (typeof OffscreenCanvas !== 'undefined') {
    const c = new OffscreenCanvas(size, size);
    const ctx = c.getContext('2d');
    if (!ctx) throw new AvatarImageError('this browser cannot draw images');
    return { ctx, encode: (quality) => c.convertToBlob({ type: 'image/jpeg', quality }) };
  }
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const ctx = c.getContext('2d');
  if (!ctx) throw new AvatarImageError('this browser cannot draw images');
  return {
    ctx,
    encode: (quality) => new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new AvatarImageError('the image could not be encoded'))), 'image/jpeg', quality))
  };
}

/** The picked file as a bounded, metadata-free JPEG (AvatarImageError if it is not an image). */
export async function reencodeAvatar(file: Blob, opts: { size?: number; maxBytes?: number } = {}): Promise<Uint8Array> {
  const size = opts.size ?? AVATAR_SIZE;
  const maxBytes = opts.maxBytes ?? AVATAR_MAX_BYTES;
  let bitmap: ImageBitmap;
  try {
    // EXIF orientation is applied to the pixels here, then the tag itself is left behind.
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new AvatarImageError('that file is not an image this browser can read');
  }
  try {
    const side = Math.min(bitmap.width, bitmap.height);
    if (side < 1) throw new AvatarImageError('the image is empty');
    const { ctx, encode } = canvas(size);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    for (const q of QUALITIES) {
      const bytes = new Uint8Array(await (await encode(q)).arrayBuffer());
      if (bytes.length <= maxBytes) return bytes;
    }
    throw new AvatarImageError(`the image does not compress below ${maxBytes} bytes`);
  } finally {
    bitmap.close();
  }
}

/**
 * Content kind 0x10 (src/lib/wire/attachment-content.ts): round trip, the MIME allow-list (the
 * sender never chooses how a file renders), hostile names made safe to save, strict bounds (P40).
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { decodeContent, encodeContent, type AttachmentContent } from '../../src/lib/wire/content';
import { MAX_THUMBNAIL_BYTES, allowedMime, downloadName, isImageMime, shownName } from '../../src/lib/wire/attachment-content';

const base: AttachmentContent = {
  kind: 'attachment',
  id: '0123456789abcdef0123456789abcdef',
  sentAt: 1_700_000_000_000,
  blobId: 'ffeeddccbbaa99887766554433221100',
  key: new Uint8Array(32).fill(7),
  digest: new Uint8Array(32).fill(9),
  size: 123_456,
  mime: 'image/png',
  name: 'holiday.png'
};

describe('attachment content', () => {
  test('round trips with and without thumbnail and caption', () => {
    expect(decodeContent(encodeContent(base))).toEqual(base);
    const full = { ...base, thumbnail: new Uint8Array(2000).fill(1), caption: 'the beach ☀' };
    expect(decodeContent(encodeContent(full))).toEqual(full);
  });

  test('P40 a MIME type outside the allow-list reads as a generic file; only image/* previews', () => {
    expect(allowedMime('text/html')).toBe('application/octet-stream');
    expect(allowedMime('image/svg+xml')).toBe('application/octet-stream');
    expect(allowedMime(' IMAGE/JPEG ')).toBe('image/jpeg');
    const bytes = encodeContent(base);
    const mimeAt = 2 + 16 + 8 + 16 + 32 + 32 + 8;
    bytes[mimeAt] = 200;
    expect((decodeContent(bytes) as AttachmentContent).mime).toBe('application/octet-stream');
    expect(isImageMime('image/gif')).toBe(true);
    expect(isImageMime('application/pdf')).toBe(false);
  });

  test('P40 hostile file names stay text and save under a sanitized name', () => {
    const hostile = '../../.bashrc\u202egpj.exe';
    expect((decodeContent(encodeContent({ ...base, name: hostile })) as AttachmentContent).name).toBe(hostile);
    expect(downloadName(hostile)).toBe('_.._.bashrc_gpj.exe');
    expect(downloadName('C:\\Windows\\x.dll')).toBe('C__Windows_x.dll');
    expect(downloadName('...')).toBe('file');
    expect(shownName('evil\u202Etxt.exe')).toBe('evil\ufffdtxt.exe');
    expect(shownName('plain name.pdf')).toBe('plain name.pdf');
    expect(downloadName('a'.repeat(500)).length).toBe(120);
  });

  test('P40 oversized fields and trailing bytes are refused', () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return isProtocolError(e) ? e.code : 'other';
      }
    };
    expect(code(() => encodeContent({ ...base, thumbnail: new Uint8Array(MAX_THUMBNAIL_BYTES + 1) }))).toBe('InvalidArgument');
    expect(code(() => encodeContent({ ...base, name: 'x'.repeat(256) }))).toBe('InvalidArgument');
    expect(code(() => encodeContent({ ...base, blobId: '../x' }))).toBe('InvalidArgument');
    expect(code(() => decodeContent(Uint8Array.of(...encodeContent(base), 0)))).toBe('DecodeFailed');
    expect(code(() => decodeContent(encodeContent(base).subarray(0, 50)))).toBe('DecodeFailed');
  });
});

/**
 * Voice notes (src/lib/wire/voice-note.ts, README "Voice notes"): the preview a sender writes into
 * an audio attachment's preview field round trips, anything out of bounds is refused as a
 * ProtocolError (P40: the sender's bytes are untrusted input), and the waveform levels are the
 * loudest sample of each slice scaled to 255. Audio types are on the allow-list; a recorder's
 * codec parameter does not push a voice note off it.
 */
import { describe, expect, test } from 'vitest';
import { isProtocolError } from '../../src/lib/codec/errors';
import { decodeContent, encodeContent, type AttachmentContent } from '../../src/lib/wire/content';
import { allowedMime, isImageMime, isVoiceMime } from '../../src/lib/wire/attachment-content';
import { MAX_VOICE_BARS, MAX_VOICE_MS, decodeVoicePreview, encodeVoicePreview, voiceClock, waveformLevels } from '../../src/lib/wire/voice-note';

const refused = (f: () => unknown): boolean => {
  try {
    f();
    return false;
  } catch (e) {
    return isProtocolError(e);
  }
};

describe('voice note preview', () => {
  test('round trips inside an audio attachment', () => {
    const levels = waveformLevels([0, 0.1, 0.5, 0.25, 1, 0.3]);
    const preview = encodeVoicePreview({ durationMs: 7_450, levels });
    const note: AttachmentContent = {
      kind: 'attachment',
      id: '0123456789abcdef0123456789abcdef',
      sentAt: 1_700_000_000_000,
      blobId: 'ffeeddccbbaa99887766554433221100',
      key: new Uint8Array(32).fill(7),
      digest: new Uint8Array(32).fill(9),
      size: 30_000,
      mime: 'audio/webm',
      name: 'Voice message.webm',
      thumbnail: preview
    };
    const back = decodeContent(encodeContent(note)) as AttachmentContent;
    expect(back).toEqual(note);
    expect(isVoiceMime(back.mime)).toBe(true);
    expect(decodeVoicePreview(back.thumbnail!)).toEqual({ durationMs: 7_450, levels });
  });

  test('P40 out-of-bounds previews are refused as protocol errors, never trusted', () => {
    const good = encodeVoicePreview({ durationMs: 1000, levels: new Uint8Array([1, 2, 3]) });
    expect(refused(() => decodeVoicePreview(new Uint8Array(0)))).toBe(true);
    expect(refused(() => decodeVoicePreview(Uint8Array.of(2, ...good.subarray(1))))).toBe(true); // unknown version
    expect(refused(() => decodeVoicePreview(Uint8Array.of(...good, 0)))).toBe(true); // trailing byte
    expect(refused(() => decodeVoicePreview(good.subarray(0, good.length - 1)))).toBe(true); // truncated
    const zeroLength = good.slice();
    zeroLength.set([0, 0, 0, 0], 1);
    expect(refused(() => decodeVoicePreview(zeroLength))).toBe(true);
    const tooLong = good.slice();
    new DataView(tooLong.buffer).setUint32(1, MAX_VOICE_MS + 1);
    expect(refused(() => decodeVoicePreview(tooLong))).toBe(true);
    const tooManyBars = Uint8Array.of(1, 0, 0, 3, 232, MAX_VOICE_BARS + 1, ...new Uint8Array(MAX_VOICE_BARS + 1));
    expect(refused(() => decodeVoicePreview(tooManyBars))).toBe(true);
    expect(refused(() => encodeVoicePreview({ durationMs: 0, levels: new Uint8Array([1]) }))).toBe(true);
    expect(refused(() => encodeVoicePreview({ durationMs: 10, levels: new Uint8Array(0) }))).toBe(true);
  });

  test('waveform levels: loudest sample per slice, scaled so the loudest bar is 255; silence stays flat', () => {
    expect([...waveformLevels([0.1, 0.2, 0.4, 0.1], 2)]).toEqual([128, 255]);
    expect([...waveformLevels([0, 0, 0], 3)]).toEqual([0, 0, 0]);
    expect(waveformLevels(Array.from({ length: 1000 }, (_, i) => i / 1000)).length).toBe(48);
    expect(waveformLevels([0.5], 48).length).toBe(1);
    expect(waveformLevels([], 48).length).toBe(1);
    expect(waveformLevels(Array(500).fill(0.2), 500).length).toBe(MAX_VOICE_BARS);
  });

  test('the recorder types are allow-listed without their codec parameter; audio is never an image', () => {
    expect(allowedMime('audio/webm;codecs=opus')).toBe('audio/webm');
    expect(allowedMime('audio/ogg; codecs=opus')).toBe('audio/ogg');
    expect(allowedMime('audio/mp4')).toBe('audio/mp4');
    expect(allowedMime('audio/x-hostile')).toBe('application/octet-stream');
    expect(allowedMime('text/html; charset=utf-8')).toBe('application/octet-stream');
    expect(isImageMime('audio/webm')).toBe(false);
    expect(isVoiceMime('image/png')).toBe(false);
  });

  test('the clock counts whole seconds', () => {
    expect(voiceClock(0)).toBe('0:00');
    expect(voiceClock(7_999)).toBe('0:07');
    expect(voiceClock(61_000)).toBe('1:01');
    expect(voiceClock(MAX_VOICE_MS)).toBe('15:00');
  });
});

/**
 * A voice note's preview (README "Voice notes"). A voice note is an attachment (content kind 0x10,
 * wire/attachment-content.ts) whose type is one of the allow-listed audio types; its preview field,
 * which holds a JPEG thumbnail for a photo, holds this instead, so the recipient draws the
 * waveform and shows the length before fetching the blob:
 *
 *   version u8 (1) || duration ms u32 (1..MAX_VOICE_MS) || u8 count (1..MAX_VOICE_BARS) || count x level u8
 *
 * A level is the loudness of one slice of the recording, 0 (silence) to 255 (the loudest slice).
 * The preview is written by the sender and read as untrusted input: anything out of bounds is a
 * ProtocolError, and the note still plays. Knows nothing of IO, DOM or audio.
 */
import { fail } from '../codec/errors';
import { ByteReader, ByteWriter } from '../codec/bytes';

export const VOICE_PREVIEW_VERSION = 1;
/** The longest voice note a recorder makes (15 minutes, as Signal's). */
export const MAX_VOICE_MS = 15 * 60 * 1000;
export const MAX_VOICE_BARS = 100;

export type VoicePreview = { durationMs: number; levels: Uint8Array };

export function encodeVoicePreview(p: VoicePreview): Uint8Array {
  if (!Number.isInteger(p.durationMs) || p.durationMs < 1 || p.durationMs > MAX_VOICE_MS) fail('InvalidArgument', `voice note of ${p.durationMs} ms`);
  if (p.levels.length < 1 || p.levels.length > MAX_VOICE_BARS) fail('InvalidArgument', `voice waveform of ${p.levels.length} bars`);
  return new ByteWriter().u8(VOICE_PREVIEW_VERSION).u32(p.durationMs).u8(p.levels.length).raw(p.levels).finish();
}

export function decodeVoicePreview(bytes: Uint8Array): VoicePreview {
  const r = new ByteReader(bytes, 'voice preview');
  const version = r.u8();
  if (version !== VOICE_PREVIEW_VERSION) fail('DecodeFailed', `voice preview version ${version}`);
  const durationMs = r.u32();
  if (durationMs < 1 || durationMs > MAX_VOICE_MS) fail('DecodeFailed', `voice note of ${durationMs} ms`);
  const count = r.u8();
  if (count < 1 || count > MAX_VOICE_BARS) fail('DecodeFailed', `voice waveform of ${count} bars`);
  const levels = r.fixed(count);
  r.end();
  return { durationMs, levels };
}

/**
 * `bars` levels from loudness samples taken while recording (each 0..1, any count): each bar is
 * the loudest sample of its slice, scaled so the loudest bar is 255. Silence stays 0.
 */
export function waveformLevels(samples: readonly number[], bars = 48): Uint8Array {
  const n = Math.max(1, Math.min(MAX_VOICE_BARS, Math.min(bars, samples.length || 1)));
  const out = new Uint8Array(n);
  if (samples.length === 0) return out;
  const peaks = Array.from({ length: n }, (_, i) => {
    const from = Math.floor((i * samples.length) / n);
    const to = Math.max(from + 1, Math.floor(((i + 1) * samples.length) / n));
    let m = 0;
    for (let j = from; j < to; j++) m = Math.max(m, Math.abs(samples[j] ?? 0));
    return m;
  });
  const top = Math.max(...peaks);
  if (top > 0) peaks.forEach((p, i) => (out[i] = Math.round((p / top) * 255)));
  return out;
}

/** "m:ss" for a length in milliseconds (rounded down to the second, as a player counts). */
export function voiceClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

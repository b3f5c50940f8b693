/**
 * Recording a voice note in the page (README "Voice notes"): the microphone through MediaRecorder
 * (Opus in WebM where the browser has it, else Ogg, else MP4/AAC as Safari records), with the
 * loudness sampled every 50 ms for the waveform. The recording never leaves the page except as an
 * attachment the vault encrypts (P45); the microphone is released the moment recording stops or
 * is cancelled. Knows nothing of the vault or the UI.
 */
import { allowedMime, type AttachmentMime } from '$lib/wire/attachment-content';
import { MAX_VOICE_MS, waveformLevels } from '$lib/wire/voice-note';

/** Container types to try, best first; each must map to an allow-listed audio type. */
const CANDIDATES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'];
const SAMPLE_EVERY_MS = 50;

export type VoiceRecording = { bytes: Uint8Array; mime: AttachmentMime; durationMs: number; levels: Uint8Array };

export class VoiceRecorderError extends Error {
  constructor(
    readonly code: 'Unsupported' | 'NoMicrophone' | 'Denied' | 'Empty' | 'Cancelled',
    message: string
  ) {
    super(message);
    this.name = 'VoiceRecorderError';
  }
}

export function voiceRecordingSupported(): boolean {
  return typeof MediaRecorder !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && CANDIDATES.some((t) => MediaRecorder.isTypeSupported(t));
}

export class VoiceRecorder {
  private recorder: MediaRecorder | undefined;
  private stream: MediaStream | undefined;
  private audio: AudioContext | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly chunks: Blob[] = [];
  private readonly samples: number[] = [];
  private startedAt = 0;
  /** Cancelled or stopped before the microphone was granted: the grant, when it comes, is released at once. */
  private abandoned = false;
  /** Called with the elapsed time and the current loudness (0..1) while recording. */
  ontick: ((elapsedMs: number, level: number) => void) | undefined;
  /** Called when the recording reached MAX_VOICE_MS and stopped itself. */
  onlimit: (() => void) | undefined;

  async start(): Promise<void> {
    const type = CANDIDATES.find((t) => MediaRecorder.isTypeSupported(t));
    if (!type) throw new VoiceRecorderError('Unsupported', 'This browser cannot record audio.');
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      throw name === 'NotAllowedError'
        ? new VoiceRecorderError('Denied', 'Parley may not use the microphone. Allow it in the browser to record.')
        : new VoiceRecorderError('NoMicrophone', 'No microphone was found.');
    }
    // The user deleted or sent while the browser was still asking (a permission prompt, a slow
    // device): nothing may record in the background, so the microphone goes straight back.
    if (this.abandoned) {
      for (const t of stream.getTracks()) t.stop();
      throw new VoiceRecorderError('Cancelled', 'The recording was cancelled.');
    }
    this.stream = stream;
    this.recorder = new MediaRecorder(this.stream, { mimeType: type, audioBitsPerSecond: 32_000 });
    this.recorder.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    };
    this.audio = new AudioContext();
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 1024;
    this.audio.createMediaStreamSource(this.stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    this.startedAt = performance.now();
    this.recorder.start(1000);
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const level = Math.min(1, Math.sqrt(sum / buf.length) * 4);
      this.samples.push(level);
      const elapsed = performance.now() - this.startedAt;
      this.ontick?.(elapsed, level);
      if (elapsed >= MAX_VOICE_MS) this.onlimit?.();
    }, SAMPLE_EVERY_MS);
  }

  /** Stops and returns the recording (the microphone is released). */
  async stop(): Promise<VoiceRecording> {
    const recorder = this.recorder;
    if (!recorder) {
      this.abandoned = true;
      throw new VoiceRecorderError('Empty', 'Nothing was recorded.');
    }
    const durationMs = Math.min(MAX_VOICE_MS, Math.max(1, Math.round(performance.now() - this.startedAt)));
    const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
    if (recorder.state !== 'inactive') recorder.stop();
    await stopped;
    const mime = allowedMime(recorder.mimeType || CANDIDATES[0]!);
    const blob = new Blob(this.chunks, { type: mime });
    const levels = waveformLevels(this.samples);
    this.release();
    if (blob.size === 0) throw new VoiceRecorderError('Empty', 'Nothing was recorded.');
    return { bytes: new Uint8Array(await blob.arrayBuffer()), mime, durationMs, levels };
  }

  /** Drops the recording and releases the microphone. */
  cancel(): void {
    this.abandoned = true;
    if (this.recorder && this.recorder.state !== 'inactive') this.recorder.stop();
    this.release();
  }

  private release(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    void this.audio?.close();
    this.stream = undefined;
    this.audio = undefined;
    this.recorder = undefined;
    this.chunks.length = 0;
    this.samples.length = 0;
  }
}

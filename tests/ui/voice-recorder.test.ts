/**
 * The microphone is never left on behind the user's back (README "Voice notes"; P45): a recording
 * deleted or sent while the browser is still granting the microphone (a permission prompt, a slow
 * device) must release the microphone the moment the grant arrives, and never start recording.
 * Browser media APIs are replaced by fakes that keep count of live tracks.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VoiceRecorder } from '../../src/lib/client/voice-recorder';

class FakeTrack {
  readyState: 'live' | 'ended' = 'live';
  stop(): void {
    this.readyState = 'ended';
  }
}

let tracks: FakeTrack[] = [];
let grant: (() => void) | undefined;
let recordersStarted = 0;

class FakeMediaRecorder {
  static isTypeSupported = (t: string) => t.startsWith('audio/webm');
  state: 'inactive' | 'recording' = 'inactive';
  mimeType = 'audio/webm;codecs=opus';
  ondataavailable: ((e: { data: Blob }) => void) | undefined;
  onstop: (() => void) | undefined;
  start(): void {
    recordersStarted++;
    this.state = 'recording';
  }
  stop(): void {
    this.state = 'inactive';
    this.ondataavailable?.({ data: new Blob([new Uint8Array([1, 2, 3])]) });
    queueMicrotask(() => this.onstop?.());
  }
}

class FakeAudioContext {
  createAnalyser() {
    return { fftSize: 0, getFloatTimeDomainData: () => undefined };
  }
  createMediaStreamSource() {
    return { connect: () => undefined };
  }
  close() {
    return Promise.resolve();
  }
}

const live = () => tracks.filter((t) => t.readyState === 'live').length;

beforeEach(() => {
  tracks = [];
  recordersStarted = 0;
  vi.stubGlobal('MediaRecorder', FakeMediaRecorder);
  vi.stubGlobal('AudioContext', FakeAudioContext);
  vi.stubGlobal('navigator', {
    mediaDevices: {
      // Resolves only when the test says the user granted the microphone.
      getUserMedia: () =>
        new Promise((resolve) => {
          grant = () => {
            const t = new FakeTrack();
            tracks.push(t);
            resolve({ getTracks: () => [t], getAudioTracks: () => [t] });
          };
        })
    }
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('voice recorder and the microphone', () => {
  it('a recording deleted while the microphone is being granted releases it on the grant and records nothing', async () => {
    const r = new VoiceRecorder();
    const started = r.start();
    r.cancel();
    grant!();
    await expect(started).rejects.toMatchObject({ code: 'Cancelled' });
    expect(tracks).toHaveLength(1);
    expect(live()).toBe(0);
    expect(recordersStarted).toBe(0);
  });

  it('a recording sent before the microphone was granted is empty, and the late grant is released', async () => {
    const r = new VoiceRecorder();
    const started = r.start();
    await expect(r.stop()).rejects.toMatchObject({ code: 'Empty' });
    grant!();
    await expect(started).rejects.toMatchObject({ code: 'Cancelled' });
    expect(live()).toBe(0);
    expect(recordersStarted).toBe(0);
  });

  it('a normal recording holds the microphone only until it stops', async () => {
    const r = new VoiceRecorder();
    const started = r.start();
    grant!();
    await started;
    expect(live()).toBe(1);
    const rec = await r.stop();
    expect(rec.bytes.length).toBeGreaterThan(0);
    expect(live()).toBe(0);
  });
});

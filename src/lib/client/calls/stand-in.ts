/**
 * Stand-in tracks for the callee's PeerJS call (DESIGN.md §6; kept fast for bench:call).
 *
 * PeerJS builds its offer from the tracks of the stream it is given, but the camera and microphone
 * stay off until the person accepts, and take a while to start then. So the call is built (while
 * ringing) with stand-in tracks that only shape the offer: Chromium's track generators, which
 * never produce a frame, or else a Web Audio and a canvas track, whose senders are detached so
 * nothing of them is sent. Our real tracks take their place the moment getUserMedia returns,
 * normally well before ICE and DTLS are done.
 * Knows nothing of the call protocol.
 */

export interface StandIn {
  stream: MediaStream;
  /** True if the tracks can never produce a frame (generators nobody writes to). */
  silent: boolean;
  /** Stops the stand-in tracks and their audio context. */
  release(): void;
}

type TrackGenerator = new (init: { kind: 'audio' | 'video' }) => MediaStreamTrack;

/** Undefined where the browser cannot make them (then the caller waits for real media instead). */
export function makeStandIn(video: boolean): StandIn | undefined {
  // Chromium's track generators are the cheapest: no audio graph, no canvas, no device.
  const Generator = (globalThis as { MediaStreamTrackGenerator?: TrackGenerator }).MediaStreamTrackGenerator;
  if (Generator) {
    try {
      const tracks = [new Generator({ kind: 'audio' }), ...(video ? [new Generator({ kind: 'video' })] : [])];
      return { stream: new MediaStream(tracks), silent: true, release: () => tracks.forEach((t) => t.stop()) };
    } catch {
      // fall back to Web Audio and a canvas
    }
  }
  const Ctx = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctx || typeof document === 'undefined') return undefined;
  let ctx: AudioContext | undefined;
  try {
    ctx = new Ctx();
    const tracks: MediaStreamTrack[] = [...ctx.createMediaStreamDestination().stream.getAudioTracks()];
    if (video) tracks.push(...document.createElement('canvas').captureStream(0).getVideoTracks());
    const stream = new MediaStream(tracks);
    const audio = ctx;
    return {
      stream,
      silent: false,
      release() {
        for (const t of tracks) t.stop();
        void audio.close().catch(() => undefined);
      }
    };
  } catch {
    void ctx?.close().catch(() => undefined);
    return undefined;
  }
}

/** Detaches every sender of `pc` (nothing is sent until `attachWhenReady` puts real tracks in). */
export function detachSenders(pc: RTCPeerConnection): void {
  for (const t of pc.getTransceivers()) void t.sender.replaceTrack(null).catch(() => undefined);
}

/**
 * Once `real` resolves, puts its track of each kind on the matching sender of `pc`. Our
 * camera/microphone switches elsewhere act on those real tracks.
 */
export function attachWhenReady(pc: RTCPeerConnection, real: Promise<MediaStream>, stillWanted: () => boolean): void {
  void real.then(
    (stream) => {
      if (!stillWanted()) return;
      for (const t of pc.getTransceivers()) {
        const track = stream.getTracks().find((x) => x.kind === t.receiver.track.kind);
        if (track) void t.sender.replaceTrack(track).catch(() => undefined);
      }
    },
    () => undefined // accept() reports the media problem
  );
}

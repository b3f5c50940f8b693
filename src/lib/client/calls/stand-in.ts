/**
 * Stand-in tracks for the callee's PeerJS call (issue 4's set-up benchmark; DESIGN.md §6).
 *
 * PeerJS builds its offer from the tracks of the stream it is given, but right after "Accept" the
 * camera and microphone are still starting. Rather than wait for them, the call is placed with a
 * silent audio track (and, for video, a blank canvas track) that only shape the offer: they are
 * detached from their senders at once, so nothing of them is ever sent, and our real tracks take
 * their place the moment getUserMedia returns, normally well before ICE and DTLS are done.
 * Knows nothing of the call protocol.
 */

export interface StandIn {
  stream: MediaStream;
  /** Stops the stand-in tracks and their audio context. */
  release(): void;
}

/** Undefined where the browser cannot make them (then the caller waits for real media instead). */
export function makeStandIn(video: boolean): StandIn | undefined {
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

/**
 * Detaches every sender of `pc` now (nothing is sent) and, once `real` resolves, puts its track
 * of the same kind in place. Our camera/microphone switches elsewhere act on those real tracks.
 */
export function swapInWhenReady(pc: RTCPeerConnection, real: Promise<MediaStream>, stillWanted: () => boolean): void {
  const transceivers = pc.getTransceivers();
  for (const t of transceivers) void t.sender.replaceTrack(null).catch(() => undefined);
  void real.then(
    (stream) => {
      if (!stillWanted()) return;
      for (const t of transceivers) {
        const track = stream.getTracks().find((x) => x.kind === t.receiver.track.kind);
        if (track) void t.sender.replaceTrack(track).catch(() => undefined);
      }
    },
    () => undefined // accept() reports the media problem
  );
}

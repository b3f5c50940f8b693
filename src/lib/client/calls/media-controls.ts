/**
 * This call's own tracks (DESIGN.md §6): the camera and microphone, started in parallel with
 * signalling; mute and camera-off (tracks disabled, never renegotiated); screen share, which swaps
 * the outgoing video track in place and puts the camera back when sharing stops.
 * Works on the call record and the few view fields named in `MediaView`; knows nothing of PeerJS
 * signalling, the ratchet or how the call is verified.
 */
import type { Live } from './live-call';
import { getCallMedia, getScreenTrack, MediaProblem, stopStream } from './media';

/** The controller's view state this module may set. */
export interface MediaView {
  sharing: boolean;
  problem: string | undefined;
  localStream: MediaStream | undefined;
}

/** getUserMedia for this call; the stream is stopped if the call is already over. */
export function startLocalMedia(live: Live, view: MediaView, current: () => boolean): Promise<MediaStream> {
  const local = getCallMedia(live.media === 'video').then((stream) => {
    live.local = stream;
    if (!current()) stopStream(stream);
    else view.localStream = stream;
    return stream;
  });
  live.localReady = local;
  local.catch(() => undefined); // reported once, by whoever awaits it
  return local;
}

export function setMuted(live: Live | undefined, muted: boolean): void {
  for (const t of live?.local?.getAudioTracks() ?? []) t.enabled = !muted;
}

export function setCameraOff(live: Live | undefined, off: boolean): void {
  for (const t of live?.local?.getVideoTracks() ?? []) t.enabled = !off;
  if (live?.screen) live.screen.enabled = !off;
}

export async function toggleScreenShare(live: Live | undefined, view: MediaView, current: () => boolean): Promise<void> {
  const sender = live?.conn?.peerConnection?.getSenders().find((s) => s.track?.kind === 'video');
  if (!live || !sender) return;
  if (live.screen) return stopSharing(live, sender, view);
  try {
    const track = await getScreenTrack();
    if (!track || !current()) return track?.stop();
    live.screen = track;
    track.onended = () => void stopSharing(live, sender, view);
    await sender.replaceTrack(track);
    view.sharing = true;
  } catch (e) {
    view.problem = e instanceof MediaProblem ? e.message : 'The screen could not be shared.';
  }
}

async function stopSharing(live: Live, sender: RTCRtpSender, view: MediaView): Promise<void> {
  const screen = live.screen;
  live.screen = undefined;
  screen?.stop();
  const camera = live.local?.getVideoTracks()[0];
  if (camera && !live.ended) await sender.replaceTrack(camera).catch(() => undefined);
  // Only now: the button must not say "Share screen" while the screen is still on the wire.
  view.sharing = false;
}

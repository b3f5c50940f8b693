/**
 * Camera, microphone and screen for calls (DESIGN.md §6): getUserMedia / getDisplayMedia with the
 * browser's refusals turned into a sentence a person can act on — never a silent failure.
 * Knows nothing of PeerJS or the call protocol.
 */

export class MediaProblem extends Error {
  constructor(
    readonly kind: 'permission' | 'no-device' | 'in-use' | 'unsupported',
    message: string
  ) {
    super(message);
    this.name = 'MediaProblem';
  }
}

function what(video: boolean): string {
  return video ? 'camera and microphone' : 'microphone';
}

/** Maps a getUserMedia DOMException to an explanation. */
export function explainMediaError(e: unknown, video: boolean): MediaProblem {
  const name = e instanceof Error ? e.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new MediaProblem(
      'permission',
      `Parley needs your ${what(video)} for this call, and the browser refused access. Allow it for this site (the camera or lock icon in the address bar) and call again.`
    );
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new MediaProblem('no-device', `No ${what(video)} was found. Connect one and call again.`);
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new MediaProblem('in-use', `Your ${what(video)} could not be started — another app may be using it.`);
  }
  return new MediaProblem('unsupported', `This browser could not start your ${what(video)}.`);
}

export async function getCallMedia(video: boolean): Promise<MediaStream> {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
    throw new MediaProblem('unsupported', 'Calls need a browser with camera and microphone support over HTTPS.');
  }
  try {
    // 640x480 at up to 30 fps, as Signal Desktop requests (its calling/constants.ts): enough for a
    // face on a phone or a desktop tile, and the camera starts and encodes sooner than at 720p.
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: video ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30, max: 30 } } : false
    });
  } catch (e) {
    throw explainMediaError(e, video);
  }
}

/** The screen (or a window) as a video track; undefined if the user cancelled the picker. */
export async function getScreenTrack(): Promise<MediaStreamTrack | undefined> {
  if (!navigator.mediaDevices?.getDisplayMedia) throw new MediaProblem('unsupported', 'This browser cannot share the screen.');
  try {
    const s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return s.getVideoTracks()[0];
  } catch (e) {
    if (e instanceof Error && e.name === 'NotAllowedError') return undefined;
    throw new MediaProblem('unsupported', 'The screen could not be shared.');
  }
}

export function stopStream(s: MediaStream | undefined): void {
  for (const t of s?.getTracks() ?? []) t.stop();
}

/**
 * PermissionStatus objects already obtained: the browser keeps their `state` current, so once
 * asked, later checks need no round trip (it would sit on the call's critical path).
 */
const statuses = new Map<string, PermissionStatus>();

function permissionNames(video: boolean): string[] {
  return video ? ['microphone', 'camera'] : ['microphone'];
}

/** Asks for the microphone and camera permission states ahead of the first call. */
export function watchPermissions(): void {
  void mediaPermission(true);
}

/** What the browser already knows about camera/microphone access, without prompting. */
export async function mediaPermission(video: boolean): Promise<PermissionState | 'unknown'> {
  try {
    const states = await Promise.all(
      permissionNames(video).map(async (name) => {
        let status = statuses.get(name);
        if (!status) {
          status = await navigator.permissions.query({ name: name as PermissionName });
          statuses.set(name, status);
        }
        return status.state;
      })
    );
    if (states.includes('denied')) return 'denied';
    return states.every((s) => s === 'granted') ? 'granted' : 'prompt';
  } catch {
    return 'unknown';
  }
}

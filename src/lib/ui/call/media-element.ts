/**
 * Svelte action: shows a MediaStream in a <video>/<audio> element (srcObject has no attribute
 * form). Plays muted local previews without audio feedback; autoplay is set by the markup.
 */
export function srcObject(node: HTMLMediaElement, stream: MediaStream | undefined) {
  node.srcObject = stream ?? null;
  return {
    update(next: MediaStream | undefined) {
      if (node.srcObject !== (next ?? null)) node.srcObject = next ?? null;
    },
    destroy() {
      node.srcObject = null;
    }
  };
}

/** 83_000 ms -> "1:23"; an hour or more -> "1:02:03". */
export function callDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A ringtone made with Web Audio (no asset needed): two-tone bursts, 0.4 s on, 0.2 s off,
 * twice, then a 2 s pause — the familiar UK double ring, quietly. Stops cleanly.
 */
export interface Ringtone {
  stop(): void;
}

export function startRingtone(): Ringtone {
  const Ctx = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctx) return { stop() {} };
  let ctx: AudioContext;
  try {
    ctx = new Ctx();
  } catch {
    return { stop() {} };
  }
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  for (const f of [400, 450]) {
    const o = ctx.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start();
  }
  const schedule = (from: number) => {
    for (const start of [0, 0.6]) {
      gain.gain.setValueAtTime(0.08, from + start);
      gain.gain.setValueAtTime(0, from + start + 0.4);
    }
  };
  schedule(ctx.currentTime);
  const timer = setInterval(() => schedule(ctx.currentTime + 0.05), 3000);
  return {
    stop() {
      clearInterval(timer);
      void ctx.close().catch(() => undefined);
    }
  };
}

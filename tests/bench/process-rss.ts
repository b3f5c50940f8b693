/**
 * Memory of the Chromium processes a browser benchmark launched (files.bench.ts): the resident set
 * (VmRSS from /proc, Linux only) of every descendant of this Node process whose command is
 * Chromium's, sampled on an interval. Renderer processes hold the page and its vault worker (JS
 * heap, wasm memory, typed arrays); Blob data lives in the browser process. Knows nothing of what
 * a benchmark does.
 */
import { readFileSync, readdirSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  renderer: boolean;
  rssKB: number;
}

function procs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      out.push({ pid: Number(name), ppid, renderer: cmd.includes('chromium') && cmd.includes('--type=renderer'), rssKB });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** This process's descendants. */
function descendants(all: Proc[]): Proc[] {
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = mine.add(p.pid) !== undefined;
  }
  return all.filter((p) => p.pid !== process.pid && mine.has(p.pid));
}

/** Samples until `stop()`: the largest renderer RSS and the largest sum over all launched processes, in MiB. */
export function sampleRss(everyMs = 100): { stop(): { rendererPeakMB: number; totalPeakMB: number } } {
  let renderer = 0;
  let total = 0;
  const take = () => {
    const ps = descendants(procs());
    total = Math.max(total, ps.reduce((n, p) => n + p.rssKB, 0));
    for (const p of ps) if (p.renderer) renderer = Math.max(renderer, p.rssKB);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { rendererPeakMB: +(renderer / 1024).toFixed(0), totalPeakMB: +(total / 1024).toFixed(0) };
    }
  };
}

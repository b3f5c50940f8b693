/**
 * A file sent to a group through the engine (README "Groups": files in groups; SECURITY.md P45):
 * ten engines (the sender and 9 members, each on its own fake IndexedDB) on the REAL host
 * (src/host/server.ts on loopback, SQLite and blob files in a temp directory). Each round the
 * sender sends a 1 MiB file (random bytes) with `sendGroupAttachment`:
 *   sendMs       the call: seal under a fresh key, ONE blob upload of 1 MiB in parts, the pointer
 *                encrypted once under the sender key and queued
 *   everyoneMs   from the call until all 9 members stored the pointer (the sender-key message's
 *                one upload, the host's fan-out, each member's receive)
 *   openMs       one member's download, digest check and decryption of the blob
 * Round 0 is a warm-up (it also carries the sender key and profile key pairwise). Wall-clock
 * medians with min..max; the machine is shared, so the spread matters.
 *
 *   npm run bench:group-files [-- --json] [-- --rounds=N] [-- --members=N] [-- --kib=N]
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createHost } from '../../src/host/server';
import { Engine } from '../../workers/engine/engine';
import { HostHttpTransport, type WsCtor } from '../../workers/engine/host-transport';
import { memoryLocks } from '../../workers/engine/lock';
import { median } from './harness';

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
};
const json = process.argv.includes('--json');
const ROUNDS = arg('rounds', 5);
const MEMBERS = arg('members', 10);
const BYTES = arg('kib', 1024) * 1024;
const log = (s: string) => {
  if (!json) console.log(s);
};

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-gfiles-'));
const host = await createHost({ port: 0, dataDir: dir, log: () => undefined });
const engines: Engine[] = [];
try {
  for (let i = 0; i < MEMBERS; i++) {
    const transport = new HostHttpTransport(host.url, WebSocket as unknown as WsCtor);
    const e = await Engine.open({ transport, dbName: `bench-gf-${process.pid}-${i}`, locks: memoryLocks(), retryMs: 50 });
    await e.createAccount(`member${i}`);
    e.connect();
    engines.push(e);
  }
  const [sender, ...rest] = engines as [Engine, ...Engine[]];
  const id = await sender.createGroup('Bench', '', rest.map((_, i) => `member${i + 1}`));
  await until(async () => (await Promise.all(rest.map(async (e) => (await e.groupInfo(id).catch(() => undefined))?.members.length === MEMBERS))).every(Boolean));

  const sendMs: number[] = [];
  const everyoneMs: number[] = [];
  const openMs: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const file = new Uint8Array(randomBytes(BYTES));
    const name = `file-${r}.bin`;
    const t0 = performance.now();
    await sender.sendGroupAttachment(id, { bytes: file, name, mime: 'application/octet-stream', transfer: `t${r}` });
    const t1 = performance.now();
    const ids = await Promise.all(rest.map((e) => arrival(e, id, name)));
    const t2 = performance.now();
    const opened = await rest[r % rest.length]!.openGroupAttachment(id, ids[r % rest.length]!, `d${r}`);
    const t3 = performance.now();
    const got = opened.bytes instanceof Blob ? new Uint8Array(await opened.bytes.arrayBuffer()) : opened.bytes;
    if (got.length !== file.length || !got.every((b, i) => b === file[i])) throw new Error('the opened file differs from the one sent');
    if (r === 0) {
      log(`warm-up (carries the sender key): send ${(t1 - t0).toFixed(0)} ms, all ${MEMBERS - 1} members ${(t2 - t0).toFixed(0)} ms`);
      continue;
    }
    sendMs.push(t1 - t0);
    everyoneMs.push(t2 - t0);
    openMs.push(t3 - t2);
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)})`;
  log(`${BYTES / 1024} KiB to a ${MEMBERS}-member group, ${ROUNDS} rounds: send ${fmt(sendMs)}; all ${MEMBERS - 1} members have it ${fmt(everyoneMs)}; one member opens it ${fmt(openMs)}`);
  if (json) console.log(JSON.stringify({ kib: BYTES / 1024, members: MEMBERS, sendMs: median(sendMs), everyoneMs: median(everyoneMs), openMs: median(openMs), spread: { sendMs: [Math.min(...sendMs), Math.max(...sendMs)], everyoneMs: [Math.min(...everyoneMs), Math.max(...everyoneMs)] } }));
} finally {
  for (const e of engines) await e.close();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `ok` every 5 ms for up to 60 s. */
async function until(ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the view id of file `name` once `e` stored it (looked up on each group event, not polled). */
function arrival(e: Engine, id: string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no ${name} after 60 s`)), 60_000);
    const finish = (r: string | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const look = () =>
      void e.listGroupMessages(id).then((ms) => {
        const m = ms.find((x) => x.kind === 'text' && x.attachment?.name === name);
        if (m) finish(m.id);
      }, finish);
    const off = e.subscribe((ev) => {
      if (ev.type === 'group' && ev.id === id) look();
    });
    look();
  });
}

// Keeps the group-core benchmark from rotting: runs the real script (real sessions, every
// ciphertext checked) on tiny groups and checks its --json contract. No timing assertions: the
// figures of a smoke run mean nothing (performance is judged by running the benchmark itself).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const KEYS = ['members', 'senderKeySendCpuMs', 'pairwiseSendCpuMs', 'perMemberSenderKeyUs', 'perMemberPairwiseUs', 'ratio', 'senderKeySendWallMs', 'pairwiseSendWallMs', 'rotationCpuMs', 'groupDecryptCpuMs', 'wireSendCpuMs', 'wireRecvCpuMs', 'uploadBytes', 'sealedSendCpuMs', 'sealedRecvCpuMs', 'sealedUploadBytes', 'sealedRatio', 'pairwiseSealedCpuMs', 'sealedVsPairwiseSealed', 'v3SendCpuMs', 'v3RecvCpuMs', 'v3UploadBytes', 'v3Ratio', 'spread'];
const LINE_KEYS = ['members', 'sendMs', 'recvMs', 'uploadBytes', 'pairwiseSendMs'];

test('the group-core benchmark runs sender keys against pairwise sessions and prints one JSON line with every figure', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'tests/bench/group-core.ts', '--json', '--smoke'], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  const lines = out.trimEnd().split('\n');
  const result = JSON.parse(lines[lines.length - 1]!) as { results: Record<string, unknown>[] };
  expect(result.results.map((r) => r.members)).toEqual([2, 5]);
  for (const r of result.results) {
    expect(Object.keys(r).sort()).toEqual([...KEYS].sort());
    for (const k of KEYS.filter((k) => k !== 'spread')) expect(Number.isFinite(r[k]) && (r[k] as number) > 0, `${k} = ${String(r[k])}`).toBe(true);
  }
  expect(out).toMatch(/ratio sender key \/ pairwise/);
  // bench:group's contract: one {"members","sendMs","recvMs","uploadBytes","pairwiseSendMs"} line per
  // size, for the default path: sealed v3 (its upload has no Enc(E), so it is 33 bytes smaller than v2's).
  const perSize = lines.slice(-3, -1).map((l) => JSON.parse(l) as Record<string, number>);
  expect(perSize.map((x) => x.uploadBytes)).toEqual(result.results.map((r) => r.v3UploadBytes));
  expect(result.results.map((r) => (r.sealedUploadBytes as number) - (r.v3UploadBytes as number))).toEqual([33, 33]);
  expect(perSize.map((x) => x.members)).toEqual([2, 5]);
  for (const x of perSize) {
    expect(Object.keys(x)).toEqual(LINE_KEYS);
    for (const k of LINE_KEYS) expect(Number.isFinite(x[k]) && x[k]! > 0, `${k} = ${x[k]}`).toBe(true);
  }
}, 120_000);

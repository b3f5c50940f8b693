import 'fake-indexeddb/auto';
import { initSodium } from './src/lib/crypto/sodium';
import { handshake, messageAt } from './tests/bench/harness';
import { storedDriver } from './tests/bench/stored-driver';
import { parleyDriver } from './tests/bench/parley-driver';
await initSodium();
const N = Number(process.argv[2] ?? 300);
const d = await storedDriver();
const p = await parleyDriver();
for (let i = 0; i < 20; i++) { await handshake(d, messageAt(i)); await handshake(p, messageAt(i)); }
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) await handshake(d, messageAt(i));
  const s = (performance.now() - t) / N;
  t = performance.now();
  for (let i = 0; i < N; i++) await handshake(p, messageAt(i));
  const m = (performance.now() - t) / N;
  console.log(`stored ${(s*1000).toFixed(0)} us/handshake, in-memory ${(m*1000).toFixed(0)} us, storage share ${((s-m)*1000).toFixed(0)} us`);
}

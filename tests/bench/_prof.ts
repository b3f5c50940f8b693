import 'fake-indexeddb/auto';
import { initSodium } from '../../src/lib/crypto/sodium';
import { established, deliver, messageAt, reverseDecryptMs } from './harness';
import { storedDriver } from './stored-driver';
await initSodium();
const d = await storedDriver();
const mode = process.argv[2] ?? 'stream';
if (mode === 'stream') {
  const c = await established(d);
  const t0 = performance.now(); let n = 0;
  while (performance.now() - t0 < 4000) { await deliver(c, 'a', messageAt(n)); n++; }
  console.log('stream msgs/s', (n * 1000) / (performance.now() - t0));
} else {
  for (let i = 0; i < 2; i++) console.log('reverse ms', await reverseDecryptMs(d, 1000));
}

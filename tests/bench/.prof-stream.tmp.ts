import { initSodium } from '../../src/lib/crypto/sodium';
import { measureRates, stream, handshakes } from './harness';
import { parleyDriver } from './parley-driver';
await initSodium();
const d = parleyDriver();
const which = process.argv[2] === 'hs' ? handshakes : stream;
await measureRates([d], which, 500, 1);
const r = await measureRates([d], which, 4000, 2);
console.log([...r.values()]);

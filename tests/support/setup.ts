// Every Vitest file starts with libsodium ready, as the worker and the host do.
import { initSodium } from '../../src/lib/crypto/sodium';

await initSodium();

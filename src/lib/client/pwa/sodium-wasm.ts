/**
 * libsodium's WebAssembly as its own file (README "Long conversations and first load"; DESIGN.md
 * §8 first load). libsodium-sumo 0.8 ships its wasm only as a base64 string inside its JavaScript
 * (380,000 characters for 285,000 bytes), which the vault worker then decodes with a JavaScript
 * loop before it can instantiate it. At BUILD time (the `parley:sodium-wasm` plugin in
 * vite.config.ts) `extractSodiumWasm` takes that string out: the bytes become a hashed asset
 * `libsodium-sumo-<hash>.wasm` (precached and pinned by the build seal like every other file,
 * P30, P39; served as application/wasm and compressed by the host), and the decoder call becomes
 * a fetch of that asset. A failed fetch rejects libsodium's own initialisation, so the vault
 * reports it as it would any other start-up failure.
 *
 * Matches the module's text strictly: exactly one base64 literal of wasm, called through a
 * decoder assigned with `??=`. Anything else (another libsodium release) is a build error, never a
 * build that quietly ships without its wasm. Pure: no file system, no Vite.
 */

/** The wasm binary's magic and version, `\0asm` 1. */
const WASM_HEAD = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const LITERAL = /"([A-Za-z0-9+/]{100000,}={0,2})"/g;
/** The function the rewritten module calls instead of the decoder; defined by the prelude. */
const LOADER = '__parleySodiumWasm';

export interface ExtractedWasm {
  /** The module's code with the literal gone and the decoder call replaced by a fetch. */
  code: string;
  wasm: Uint8Array;
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Takes the wasm out of libsodium-sumo's ES module `code`. `urlOf` is given the wasm's bytes and
 * answers a JavaScript expression for their URL in the built module (the plugin emits the asset
 * and answers Rollup's file URL). Throws when the module is not shaped as expected.
 */
export function extractSodiumWasm(code: string, urlOf: (wasm: Uint8Array) => string): ExtractedWasm {
  const found = [...code.matchAll(LITERAL)];
  if (found.length !== 1) throw new Error(`libsodium-sumo: expected one inline wasm literal, found ${found.length}`);
  const literal = found[0]!;
  const wasm = fromBase64(literal[1]!);
  if (!WASM_HEAD.every((b, i) => wasm[i] === b)) throw new Error('libsodium-sumo: the inline literal is not a WebAssembly binary');
  const start = literal.index;
  const end = start + literal[0].length;
  // The decoder is the function expression called with the literal: `o??=(A=>{…})("…")`.
  const assign = code.lastIndexOf('??=', start);
  const call = code.slice(assign + 3, start);
  if (assign < 0 || !call.startsWith('(') || !call.endsWith(')(') || !call.includes('charCodeAt') || call.includes('??=') || code[end] !== ')') {
    throw new Error('libsodium-sumo: the inline wasm is not read through the expected decoder');
  }
  const prelude =
    `const ${LOADER}=async()=>{const r=await fetch(${urlOf(wasm)});` +
    `if(!r.ok)throw new Error("libsodium wasm: HTTP "+r.status);return new Uint8Array(await r.arrayBuffer())};\n`;
  return { code: prelude + code.slice(0, assign + 3) + `await ${LOADER}()` + code.slice(end + 1), wasm };
}

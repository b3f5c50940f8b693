import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app: the host serves index.html for every app route.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // P30: SvelteKit's one inline bootstrap script is allowed by its hash, never by 'unsafe-inline'.
    // This policy ends up in a <meta> tag, so header-only directives (frame-ancestors) live in the
    // host's CSP header instead; the host adds the same script hashes to its header. connect-src
    // is 'self' only: CSP3 'self' also matches this host's own ws(s) origin, and the host's header
    // names that origin exactly (src/host/static.ts); no ws:/wss: wildcards.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        // libsodium instantiates its wasm module; 'wasm-unsafe-eval' allows that and nothing else.
        'script-src': ['self', 'wasm-unsafe-eval'],
        'worker-src': ['self'],
        'connect-src': ['self'],
        'img-src': ['self', 'data:', 'blob:'],
        'media-src': ['self', 'blob:'],
        'style-src': ['self', 'unsafe-inline'],
        'object-src': ['none'],
        'base-uri': ['none'],
        'form-action': ['none']
      }
    },
    typescript: {
      config(tsconfig) {
        tsconfig.include.push('../workers/**/*.ts', '../tests/**/*.ts', '../vite.config.ts');
        return tsconfig;
      }
    }
  }
};

export default config;

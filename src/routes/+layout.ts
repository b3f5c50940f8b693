// A single-page app (adapter-static fallback): everything renders in the browser, nothing is
// prerendered, so no page ever exists without the vault worker behind it.
export const ssr = false;
export const prerender = false;

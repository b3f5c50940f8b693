// Types for vite-plugin-pwa's virtual modules (`virtual:pwa-register/svelte`), used by UpdateToast.
/// <reference types="vite-plugin-pwa/svelte" />

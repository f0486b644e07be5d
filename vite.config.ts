import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const rendererRoot = fileURLToPath(new URL('./renderer', import.meta.url));

/**
 * Builds renderer/ into dist/renderer. The server serves it at /ui/ (hence the base); the Electron app
 * loads the same files. No inline scripts or styles are emitted: the server's CSP forbids them.
 */
export default defineConfig({
  root: rendererRoot,
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Tiny assets stay files rather than data: URLs, which the CSP would have to allow.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});

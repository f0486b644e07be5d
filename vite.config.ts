import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const rendererRoot = fileURLToPath(new URL('./renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

/**
 * Writes .br and .gz copies of the text assets next to them: the server (@fastify/static with
 * preCompressed) then sends a third of the bytes to a browser on the LAN without compressing per request.
 */
function precompress(): Plugin {
  return {
    name: 'lmx-precompress',
    apply: 'build',
    async closeBundle() {
      const files = await readdir(outDir, { recursive: true });
      // Hashed assets only: index.html is tiny and served by its own route.
      for (const file of files.filter((name) => /^assets[\\/].+\.(js|css|svg|json)$/.test(name))) {
        const full = path.join(outDir, file);
        const content = await readFile(full);
        await writeFile(`${full}.gz`, gzipSync(content, { level: 9 }));
        await writeFile(
          `${full}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

/**
 * Builds renderer/ into dist/renderer. The server serves it at /ui/ (hence the base); the Electron app
 * loads the same files. No inline scripts or styles are emitted: the server's CSP forbids them.
 */
export default defineConfig({
  root: rendererRoot,
  base: '/ui/',
  plugins: [react(), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // Tiny assets stay files rather than data: URLs, which the CSP would have to allow.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});

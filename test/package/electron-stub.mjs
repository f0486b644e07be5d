// `node --import ./electron-stub.mjs`: `electron` — built into Electron, absent under Node — resolves
// to a stand-in for both import and require, so the packaged main entry can be loaded under plain Node
// to prove it gets past module loading. Every Electron API is a recording no-op; `app` answers the few
// calls the entry makes at load with real values, and refuses the single-instance lock so main()
// never runs (nothing native to drive here).
import Module, { register } from 'node:module';
import { fileURLToPath, URL } from 'node:url';

const stub = fileURLToPath(new URL('./electron-stub.cjs', import.meta.url));

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if (specifier === 'electron') return { url: ${JSON.stringify(new URL('./electron-stub.cjs', import.meta.url).href)}, format: 'commonjs', shortCircuit: true };
      return next(specifier, context);
    }`)}`,
);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? stub : resolveFilename.call(this, request, ...rest);
};

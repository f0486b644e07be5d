#!/usr/bin/env -S node --max-semi-space-size=4
// The `lmx` command. An installed package carries the compiled server (dist/cli/lmx.js, made by
// `npm run build`) and no TypeScript, and runs that. A development checkout — the sources are here —
// runs the sources through tsx, so what runs is always what is being edited and a stale build is never
// picked up by accident; LMX_RUN=compiled runs the build from a checkout (benchmarks, packaging checks).
import { URL } from 'node:url';
import { existsSync } from 'node:fs';
import process from 'node:process';

const source = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/lmx.js', import.meta.url);

if (existsSync(source) && process.env.LMX_RUN !== 'compiled') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('lmx: no compiled server at dist/cli/lmx.js: run `npm run build`\n');
  process.exit(1);
}

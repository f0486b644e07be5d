// The Electron main entry: registers tsx's loader (as bin/lmx.js does for the CLI), then runs the
// TypeScript composition root. `electron electron/main.mjs` in development; electron-builder points
// package.json's "main" here through extraMetadata.
import { register } from 'tsx/esm/api';

register();
await import('./main/index.ts');

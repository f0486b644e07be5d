import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Defined by the build (build/compile.mjs); absent when the sources run through tsx in development.
declare const LMX_COMPILED: boolean | undefined;

/** Whether this main process is the compiled one (a packaged app, or `npm run build` output). */
export const compiled = typeof LMX_COMPILED !== 'undefined' && LMX_COMPILED;

/**
 * The files the main process loads at run time. Compiled, everything comes from dist/ (the packaged
 * app carries no TypeScript and no tsx); in development, the sources through their tsx entries.
 */
export function appFiles(appRoot: string, isCompiled: boolean = compiled) {
  return {
    utilityEntry: isCompiled
      ? path.join(appRoot, 'dist', 'main', 'utility-process.js')
      : path.join(appRoot, 'electron', 'utility-entry.mjs'),
    preload: isCompiled
      ? path.join(appRoot, 'dist', 'main', 'preload.cjs')
      : path.join(appRoot, 'electron', 'preload', 'index.cjs'),
    startingPage: pathToFileURL(path.join(appRoot, 'electron', 'static', 'starting.html')).href,
    trayIcon: path.join(appRoot, 'build', 'trayTemplate.png'),
  };
}

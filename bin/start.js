#!/usr/bin/env node
// `npm start`: the menu-bar app through Electron where an Electron binary exists; otherwise one line
// saying so, then the headless server (`lmx serve`) with the same arguments.
import { spawn } from 'node:child_process';
import path from 'node:path';
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { findElectronBinary } = await import('../electron/binary.ts');

const repoRoot = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const electron = findElectronBinary(repoRoot);

const child = electron.found
  ? spawn(electron.path, [path.join(repoRoot, 'electron', 'main.mjs'), ...args], { stdio: 'inherit' })
  : (process.stdout.write(`lmx: ${electron.reason}; running the headless server instead (lmx serve)\n`),
    spawn(process.execPath, [path.join(repoRoot, 'bin', 'lmx.js'), 'serve', ...args], { stdio: 'inherit' }));

// The child gets the terminal's signals; the first one drains it, a second forces it (its own rules).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

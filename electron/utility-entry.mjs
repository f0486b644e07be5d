// The server's entry as an Electron utilityProcess (or a child_process.fork standing in for one):
// registers tsx's loader, as bin/lmx.js does, then runs server/hosts/utility-process.ts.
import { register } from 'tsx/esm/api';

register();
await import('../server/hosts/utility-process.ts');

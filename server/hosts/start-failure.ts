import { EXIT } from '../../shared/exit-codes.ts';
import { ConfigError } from '../config/load.ts';
import { DataDirLockedError, DataDirUnwritableError } from '../persistence/data-dir-lock.ts';

/**
 * The exit code of a start that failed for a reason the user must fix (the configuration, another server
 * holding the data dir, a data dir that cannot be written), or undefined for any other failure: a crash.
 * Both hosts (`lmx serve` and the app's utility process) end with it, and the app's supervisor does not
 * restart a server that ended so.
 */
export function startFailureExitCode(error: unknown): number | undefined {
  if (error instanceof ConfigError) return EXIT.config;
  if (error instanceof DataDirLockedError) return EXIT.dataDirLocked;
  if (error instanceof DataDirUnwritableError) return EXIT.dataDirUnwritable;
  return undefined;
}

/** How `lmx` and the server process end, for scripts and the app's supervisor. One list for everyone. */
export const EXIT = {
  ok: 0,
  /** A failure at run time (a download that failed, a drain that did not finish, a crash). */
  failure: 1,
  /** The configuration or the command line was refused before anything started. */
  config: 2,
  /** Another server holds the data directory. */
  dataDirLocked: 3,
  /** The data directory is read-only or not ours (EROFS, EACCES): nothing could be persisted. */
  dataDirUnwritable: 4,
} as const;

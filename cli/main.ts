import { Command, CommanderError } from 'commander';
import { EXIT } from '../shared/exit-codes.ts';
import { serveCommand } from './serve.ts';
import { benchCommand } from './bench.ts';
import { pullCommand } from './pull.ts';
import { clusterCommand } from './cluster.ts';

/** `lmx`: the headless command line. */
const program = new Command('lmx')
  .description('LMX: a production-grade, OpenAI-compatible LLM server for your team')
  .exitOverride()
  .addCommand(serveCommand().exitOverride(), { isDefault: true })
  .addCommand(benchCommand())
  .addCommand(pullCommand())
  .addCommand(clusterCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version are not errors; a bad flag is a configuration error.
  process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.config);
}

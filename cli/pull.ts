import { Command } from 'commander';
import { ConfigError, loadConfig } from '../server/config/load.ts';
import { EXIT } from '../shared/exit-codes.ts';

interface PullFlags {
  dataDir?: string;
  modelsDir?: string;
}

/** `lmx pull <uri>`: downloads a model into the library from the terminal, with a progress bar. */
export function pullCommand(): Command {
  return new Command('pull')
    .description(
      'Download a model into the library (hf:owner/repo/file.gguf, hf:owner/repo:quant or https://…)',
    )
    .argument('<uri>', 'what to download')
    .option('--data-dir <dir>', 'data directory (env LMX_DATA_DIR)')
    .option('--models-dir <dir>', 'model library directory (default <data-dir>/models)')
    .action(async (uri: string, flags: PullFlags) => {
      const code = await pull(uri, flags);
      // The downloader's HTTP agent keeps sockets alive for seconds after the last byte: exit now.
      process.exit(code);
    });
}

async function pull(uri: string, flags: PullFlags): Promise<number> {
  let config;
  try {
    config = loadConfig({ flags: { dataDir: flags.dataDir, modelsDir: flags.modelsDir } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lmx: ${error.message}\n`);
    return EXIT.config;
  }
  const { modelsDir } = config;
  // Imported only now: a configuration error is reported without loading the inference engine.
  const [{ default: pino }, { DownloadManager }, { SingleBar, Presets }] = await Promise.all([
    import('pino'),
    import('../server/models/downloads.ts'),
    import('cli-progress'),
  ]);
  const bar = new SingleBar(
    {
      format: '{file} [{bar}] {percentage}% | {doneMb}/{totalMb} MB | {speedMb} MB/s',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  let started = false;
  const megabytes = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);
  const downloads = new DownloadManager(
    modelsDir,
    pino({ level: 'silent' }),
    {
      onUpdate: (job) => {
        const total = job.bytesTotal ?? Math.max(job.bytesDone, 1);
        const payload = {
          file: job.fileName,
          doneMb: megabytes(job.bytesDone),
          totalMb: job.bytesTotal === null ? '?' : megabytes(job.bytesTotal),
          speedMb: megabytes(job.speedBytesPerSecond),
        };
        if (!started) {
          bar.start(total, job.bytesDone, payload);
          started = true;
        }
        bar.setTotal(total);
        bar.update(job.bytesDone, payload);
      },
    },
    config.downloads,
  );
  let job;
  try {
    job = await downloads.start(uri);
  } catch (error) {
    process.stderr.write(`lmx: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
  const stop = () => void downloads.dispose();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const finished = await downloads.wait(job.id);
  bar.stop();
  if (finished.state === 'done') {
    process.stdout.write(`Downloaded ${finished.fileName} into ${modelsDir}\n`);
    return 0;
  }
  process.stderr.write(`lmx: download ${finished.state}: ${finished.error ?? 'cancelled'}\n`);
  return EXIT.failure;
}

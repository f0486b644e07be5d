import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { ClusterFileError, readCluster, type Cluster } from './cluster-config.ts';
import { renderHaproxy, renderPrometheus } from './cluster-render.ts';
import { rollingRestart, RollingRestartError } from './rolling-restart.ts';
import { EXIT } from '../shared/exit-codes.ts';

interface ClusterFlags {
  cluster: string;
  out?: string;
}

/** `lmx cluster`: the front door and monitoring of several nodes, and their rolling restart. */
export function clusterCommand(): Command {
  const command = new Command('cluster').description(
    'Several LMX nodes behind HAProxy, scraped by Prometheus (see README, "Running several Macs")',
  );
  command
    .command('haproxy')
    .description('Render deploy/haproxy/haproxy.cfg for the nodes of a cluster file')
    .requiredOption('--cluster <file>', 'the cluster file (JSON; see deploy/cluster.example.json)')
    .option('--out <file>', 'write here instead of stdout')
    .action((flags: ClusterFlags) => run(flags, (cluster) => renderHaproxy(cluster)));
  command
    .command('prometheus')
    .description('Render a Prometheus configuration scraping the nodes of a cluster file')
    .requiredOption('--cluster <file>', 'the cluster file')
    .option('--out <file>', 'write here instead of stdout')
    .action((flags: ClusterFlags) => run(flags, (cluster) => renderPrometheus(cluster)));
  command
    .command('restart')
    .description('Restart the nodes one by one, each drained first and back with its models before the next')
    .requiredOption('--cluster <file>', 'the cluster file (every node needs a `restart` command)')
    .option('--node-timeout <seconds>', 'how long one node may take to come back', '300')
    .action(async (flags: ClusterFlags & { nodeTimeout: string }) => {
      const cluster = await loadOrExit(flags.cluster);
      try {
        await rollingRestart(cluster, {
          nodeTimeoutMs: Number(flags.nodeTimeout) * 1000,
          log: (line) => process.stdout.write(`${line}\n`),
        });
      } catch (error) {
        if (!(error instanceof RollingRestartError)) throw error;
        process.stderr.write(`lmx: ${error.message}\n`);
        process.exit(EXIT.failure);
      }
    });
  return command;
}

async function run(flags: ClusterFlags, render: (cluster: Cluster) => Promise<string> | string) {
  const text = await render(await loadOrExit(flags.cluster));
  if (flags.out) await writeFile(flags.out, text);
  else process.stdout.write(text);
}

async function loadOrExit(file: string): Promise<Cluster> {
  try {
    return await readCluster(file);
  } catch (error) {
    if (!(error instanceof ClusterFileError)) throw error;
    process.stderr.write(`lmx: ${error.message}\n`);
    process.exit(EXIT.config);
  }
}

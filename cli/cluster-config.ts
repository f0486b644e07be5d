import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * The cluster file: the nodes of a pool and how their front door and monitoring are set up. One file
 * feeds `lmx cluster haproxy`, `lmx cluster prometheus` and `lmx cluster restart`.
 */
const NodeSchema = Type.Object(
  {
    /** A short name: HAProxy's server name and Prometheus's `node` label. */
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
    /** Where the node's LMX server listens, e.g. http://10.0.0.11:1235 */
    url: Type.String({ pattern: '^http://[^/\\s]+:\\d+/?$' }),
    /**
     * A shell command that restarts the node gracefully: it sends SIGTERM (the node drains) and whatever
     * supervises the node starts it again, e.g. `ssh mac-1 launchctl kickstart -k gui/501/lmx`.
     */
    restart: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const ClusterSchema = Type.Object(
  {
    nodes: Type.Array(NodeSchema, { minItems: 1 }),
    frontDoor: Type.Object(
      {
        bind: Type.String({ minLength: 1, default: '0.0.0.0:8080' }),
        /** Health check period: must stay below the nodes' drainNoticeMs. */
        checkIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
        /** Consecutive good checks before a node rejoins. */
        rise: Type.Integer({ minimum: 1, default: 2 }),
        connectTimeoutMs: Type.Integer({ minimum: 1, default: 2000 }),
        /** Longer than the nodes' queue.timeoutMs + inference.timeoutMs. */
        streamTimeoutMs: Type.Integer({ minimum: 1000, default: 340_000 }),
        clientHeader: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'x-lmx-client' }),
        stickinessExpireMinutes: Type.Integer({ minimum: 1, default: 30 }),
        maxConnections: Type.Integer({ minimum: 1, default: 4096 }),
        /** The one node whose /admin and /ui the front door serves; absent: neither is exposed. */
        adminNode: Type.Optional(Type.String({ minLength: 1 })),
      },
      { default: {}, additionalProperties: false },
    ),
    prometheus: Type.Object(
      {
        scrapeIntervalSeconds: Type.Integer({ minimum: 1, default: 15 }),
        /** Where the rule files are, as Prometheus will see them (relative to its config file, or absolute). */
        rulesDir: Type.String({ minLength: 1, default: '.' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type ClusterNode = Static<typeof NodeSchema>;
export type Cluster = Static<typeof ClusterSchema>;

export class ClusterFileError extends Error {
  override readonly name = 'ClusterFileError';
}

/** Validates a cluster description and fills in the defaults. */
export function parseCluster(candidate: unknown, source = 'cluster file'): Cluster {
  const cluster = Value.Default(ClusterSchema, structuredClone(candidate));
  const [first] = Value.Errors(ClusterSchema, cluster);
  if (first) {
    throw new ClusterFileError(`${source}: '${first.instancePath || '/'}' ${first.message}`);
  }
  const valid = cluster as Cluster;
  const names = valid.nodes.map((node) => node.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw new ClusterFileError(`${source}: the node name '${repeated}' is used twice`);
  const adminNode = valid.frontDoor.adminNode;
  if (adminNode !== undefined && !names.includes(adminNode)) {
    throw new ClusterFileError(`${source}: frontDoor.adminNode '${adminNode}' is not one of the nodes`);
  }
  return valid;
}

export async function readCluster(file: string): Promise<Cluster> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ClusterFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClusterFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseCluster(parsed, file);
}

/** host:port of a node's URL. */
export function nodeAddress(node: ClusterNode): string {
  return new URL(node.url).host;
}

export const deployDir = path.resolve(import.meta.dirname, '../deploy');

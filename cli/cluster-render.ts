import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deployDir, nodeAddress, type Cluster } from './cluster-config.ts';

export const haproxyTemplateFile = path.join(deployDir, 'haproxy/haproxy.cfg');

/** deploy/haproxy/haproxy.cfg with the cluster's nodes and settings filled in. */
export async function renderHaproxy(cluster: Cluster, template?: string): Promise<string> {
  const text = template ?? (await readFile(haproxyTemplateFile, 'utf8'));
  const door = cluster.frontDoor;
  const servers = cluster.nodes.map((node) => `    server ${node.name} ${nodeAddress(node)}`);
  const admin = cluster.nodes.find((node) => node.name === door.adminNode);
  const adminAcl = admin
    ? [
        `    # /admin and /ui of ${admin.name} only (its admin key guards them).`,
        '    acl admin path_beg /admin/ /ui',
      ]
    : ["    # /admin and /ui are not exposed (frontDoor.adminNode exposes one node's)."];
  const adminBackend = admin ? `\nbackend lmx_admin\n    server ${admin.name} ${nodeAddress(admin)}\n` : '';
  return (
    fill(text, {
      max_connections: String(door.maxConnections),
      connect_timeout: `${door.connectTimeoutMs}ms`,
      stream_timeout: `${door.streamTimeoutMs}ms`,
      bind: door.bind,
      client_header: door.clientHeader,
      admin_acl: adminAcl.join('\n'),
      admin_use: admin ? '    use_backend lmx_admin if admin' : '',
      served: admin ? 'openai || admin' : 'openai',
      stickiness_expire: `${door.stickinessExpireMinutes}m`,
      check_interval: `${door.checkIntervalMs}ms`,
      rise: String(door.rise),
      servers: servers.join('\n'),
    }) + adminBackend
  );
}

/** A Prometheus configuration scraping every node, with LMX's recording and alert rules. */
export function renderPrometheus(cluster: Cluster): string {
  const { scrapeIntervalSeconds, rulesDir } = cluster.prometheus;
  const lines = [
    '# Rendered by `lmx cluster prometheus` from the cluster file.',
    'global:',
    `  scrape_interval: ${scrapeIntervalSeconds}s`,
    `  evaluation_interval: ${scrapeIntervalSeconds}s`,
    'rule_files:',
    `  - ${yamlString(path.posix.join(rulesDir, 'lmx-recording.rules.yml'))}`,
    `  - ${yamlString(path.posix.join(rulesDir, 'lmx-alerts.rules.yml'))}`,
    'scrape_configs:',
    '  - job_name: lmx',
    '    metrics_path: /metrics',
    '    static_configs:',
  ];
  for (const node of cluster.nodes) {
    lines.push(
      `      - targets: [${yamlString(nodeAddress(node))}]`,
      `        labels: { node: ${yamlString(node.name)} }`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Replaces every {{name}}; a placeholder without a value is a bug in the template, not left in. */
function fill(template: string, values: Record<string, string>): string {
  const filled = template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the HAProxy template has an unknown placeholder ${whole}`);
    return value;
  });
  return filled;
}

/** A single-quoted YAML scalar (the style the repository's formatter keeps). */
function yamlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

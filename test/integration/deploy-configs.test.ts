import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCluster, readCluster } from '../../cli/cluster-config.ts';
import { renderHaproxy, renderPrometheus } from '../../cli/cluster-render.ts';
import { findBinary } from '../helpers/binaries.ts';
import { repoRoot, runCli } from '../helpers/server.ts';

const deploy = path.join(repoRoot, 'deploy');
const prometheusDir = path.join(deploy, 'prometheus');
const promtool = findBinary('promtool');
const haproxy = findBinary('haproxy');

function run(binary: string, args: string[], cwd = prometheusDir) {
  const result = spawnSync(binary, args, { cwd, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The series the recording rules define. */
async function recordedSeries(): Promise<Set<string>> {
  const text = await readFile(path.join(prometheusDir, 'lmx-recording.rules.yml'), 'utf8');
  return new Set([...text.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1] as string));
}

describe('deploy/prometheus', () => {
  it.skipIf(!promtool)('promtool: the rules and the rendered configuration are valid', async () => {
    const rules = run(promtool!, ['check', 'rules', 'lmx-recording.rules.yml', 'lmx-alerts.rules.yml']);
    expect(rules.output).toContain(`SUCCESS: ${(await recordedSeries()).size} rules found`);
    expect(rules.output).toContain('SUCCESS: 7 rules found');
    expect(rules.code).toBe(0);
    const config = run(promtool!, ['check', 'config', 'prometheus.yml']);
    expect(config.output).toContain('is valid prometheus config file syntax');
    expect(config.code).toBe(0);
  });

  it.skipIf(!promtool)('promtool test rules: the rule unit tests pass', () => {
    const tests = run(promtool!, ['test', 'rules', 'lmx-rules.test.yml']);
    expect(tests.output).toContain('SUCCESS');
    expect(tests.code).toBe(0);
  });

  it('prometheus.yml is what `lmx cluster prometheus` renders for deploy/cluster.example.json', async () => {
    const cluster = await readCluster(path.join(deploy, 'cluster.example.json'));
    expect(renderPrometheus(cluster)).toBe(
      await readFile(path.join(prometheusDir, 'prometheus.yml'), 'utf8'),
    );
    const rendered = await runCli([
      'cluster',
      'prometheus',
      '--cluster',
      path.join(deploy, 'cluster.example.json'),
    ]);
    expect(rendered.code).toBe(0);
    expect(rendered.stdout).toBe(renderPrometheus(cluster));
  });

  it('the Grafana dashboard parses and its queries use only recorded series', async () => {
    const dashboard = JSON.parse(
      await readFile(path.join(deploy, 'grafana/dashboards/lmx-cluster.json'), 'utf8'),
    ) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    const recorded = await recordedSeries();
    const used = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(used.length).toBeGreaterThan(10);
    // Every metric-like name in a query (label names excluded: those sit in braces).
    for (const expr of used) {
      const names = expr.replace(/\{[^}]*\}/g, '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(recorded.has(name), `${name} in ${expr}`).toBe(true);
    }
    const provisioning = await readFile(path.join(deploy, 'grafana/provisioning/dashboards/lmx.yml'), 'utf8');
    expect(provisioning).toMatch(/type: file/);
  });
});

describe('lmx cluster haproxy', () => {
  const example = { nodes: [{ name: 'a', url: 'http://127.0.0.1:1' }] };

  it('renders one server line per node with /readyz checks, leastconn and stickiness', async () => {
    const text = await renderHaproxy(
      parseCluster({
        nodes: [
          { name: 'mac-1', url: 'http://10.0.0.11:1235' },
          { name: 'mac-2', url: 'http://10.0.0.12:1235/' },
        ],
        frontDoor: { bind: '127.0.0.1:9999', checkIntervalMs: 200, rise: 1 },
      }),
    );
    expect(text).toMatch(/^ {4}server mac-1 10\.0\.0\.11:1235$/m);
    expect(text).toMatch(/^ {4}server mac-2 10\.0\.0\.12:1235$/m);
    expect(text).toMatch(/^ {4}bind 127\.0\.0\.1:9999$/m);
    expect(text).toMatch(/http-check send meth GET uri \/readyz/);
    expect(text).toMatch(/check inter 200ms .* fall 1 rise 1/);
    expect(text).toMatch(/^ {4}balance leastconn$/m);
    expect(text).toMatch(/^ {4}retry-on conn-failure empty-response$/m);
    expect(text).not.toMatch(/lmx_admin/);
    expect(text).not.toMatch(/\{\{/);
  });

  it('exposes /admin and /ui of one named node only when configured', async () => {
    const text = await renderHaproxy(parseCluster({ ...example, frontDoor: { adminNode: 'a' } }));
    expect(text).toMatch(/use_backend lmx_admin if admin/);
    expect(text).toMatch(/^backend lmx_admin\n {4}server a 127\.0\.0\.1:1$/m);
  });

  it('refuses a bad cluster file with a message naming the problem (exit 2)', async () => {
    expect(() => parseCluster({ nodes: [] })).toThrow(/nodes/);
    expect(() => parseCluster({ nodes: [example.nodes[0], example.nodes[0]] })).toThrow(/used twice/);
    expect(() => parseCluster({ ...example, frontDoor: { adminNode: 'b' } })).toThrow(/not one of/);
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-cluster-'));
    const file = path.join(dir, 'cluster.json');
    await writeFile(file, JSON.stringify({ nodes: [{ name: 'x', url: 'ftp://nowhere' }] }));
    const result = await runCli(['cluster', 'haproxy', '--cluster', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/lmx: .*cluster\.json: '\/nodes\/0\/url'/);
  });

  it.skipIf(!haproxy)('haproxy -c accepts the rendered configuration, with and without /admin', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-haproxy-'));
    for (const frontDoor of [{}, { adminNode: 'mac-1' }]) {
      const cluster = await readCluster(path.join(deploy, 'cluster.example.json'));
      const file = path.join(dir, 'haproxy.cfg');
      await writeFile(file, await renderHaproxy(parseCluster({ ...cluster, frontDoor })));
      const check = run(haproxy!, ['-c', '-f', file], dir);
      expect(check.output).toContain('Configuration file is valid');
      expect(check.output).not.toMatch(/WARNING|ALERT/);
      expect(check.code).toBe(0);
    }
  });
  if (!promtool)
    console.log('skipping the promtool checks: promtool is not installed (apt-get install prometheus)');
  if (!haproxy)
    console.log('skipping the haproxy -c check: haproxy is not installed (apt-get install haproxy)');
});

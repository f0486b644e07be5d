// `lmx bench` end to end: a tiny bounded run against two real local servers (--compare), its JSON and
// HTML reports, and the HTML opened in Chromium with its charts measured and screenshotted.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../../loadgen/bench-run.ts';
import { testModelPath } from '../fixtures/models.ts';
import { repoRoot, runCli, startTestServer, type TestServer } from '../helpers/server.ts';

const chromiumPath = process.env.LMX_CHROMIUM ?? '/usr/bin/chromium';
let first: TestServer;
let second: TestServer;
let outDir: string;

beforeAll(async () => {
  const model = await testModelPath();
  const overrides = { startupModels: [model], rateLimit: { exemptLoopback: true } };
  [first, second] = await Promise.all([startTestServer(overrides), startTestServer(overrides)]);
  outDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-out-'));
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('lmx bench', () => {
  let result: BenchResult;
  let htmlPath: string;

  it('runs sustained load against two servers interleaved and reports both and their ratios', async () => {
    const run = await runCli([
      'bench',
      '--scenario',
      'sustained',
      '--concurrency',
      '2',
      '--requests',
      '6',
      '--max-tokens',
      '8',
      '--duration',
      '60',
      '--timeout',
      '30',
      '--url',
      `${first.url}/v1`,
      '--compare',
      `${second.url}/v1`,
      '--out',
      outDir,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const label of [
      'TTFT ms',
      'TPOT ms',
      'latency ms',
      'output tok/s',
      'requests/s',
      '429',
      '503',
      'client timeout',
    ]) {
      expect(run.stdout).toContain(label);
    }
    expect(run.stdout).toContain('p50 / p95 / p99 / max');
    expect(run.stdout).toContain('B÷A');

    const files = await readdir(outDir);
    const jsonName = files.find((name) => name.endsWith('.json'));
    const htmlName = files.find((name) => name.endsWith('.html'));
    expect(jsonName).toMatch(/^bench-sustained-.*\.json$/);
    expect(htmlName).toBeDefined();
    htmlPath = path.join(outDir, htmlName!);
    result = JSON.parse(await readFile(path.join(outDir, jsonName!), 'utf8')) as BenchResult;

    expect(result.targets.map((target) => [target.label, target.url])).toEqual([
      ['A', `${first.url}/v1`],
      ['B', `${second.url}/v1`],
    ]);
    for (const target of result.targets) {
      expect(target.figures.requests).toBe(6);
      expect(target.figures.outcomes.ok).toBe(6);
      expect(target.figures.ttftMs?.count).toBe(6);
      expect(target.figures.outputTokens).toBeGreaterThan(0);
    }
    // Interleaved: A's and B's requests alternate in slices within one run.
    const order = result.requests.map((request) => request.target).join('');
    expect(order).toMatch(/^A+B+A+B+$/);
    expect(result.comparison?.ratios.outputTokensPerSecond).toBeGreaterThan(0);
    expect(result.machine.cpuCount).toBeGreaterThan(0);
    expect(result.settings).toMatchObject({ scenario: 'sustained', concurrency: 2, maxTokens: 8 });
  });

  it('writes an HTML report whose charts render in Chromium', async (context) => {
    if (!existsSync(chromiumPath)) {
      console.warn(
        `skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set LMX_CHROMIUM)`,
      );
      context.skip();
    }
    expect(htmlPath).toBeDefined();
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) outside.push(request.url());
      });
      await page.goto(pathToFileURL(htmlPath).href);
      const charts = await page.locator('svg.chart').evaluateAll((elements) =>
        elements.map((element) => {
          const box = element.getBoundingClientRect();
          return {
            id: element.id,
            width: box.width,
            height: box.height,
            bars: element.querySelectorAll('rect.bar').length,
            lines: [...element.querySelectorAll('path.line')].filter(
              (line) => (line as unknown as { getTotalLength(): number }).getTotalLength() > 0,
            ).length,
          };
        }),
      );
      const byId = new Map(charts.map((chart) => [chart.id, chart]));
      for (const id of [
        'bars-ttft',
        'bars-tpot',
        'bars-latency',
        'bars-throughput',
        'cdf-ttft',
        'cdf-tpot',
        'cdf-latency',
        'timeline-tokens',
      ]) {
        const chart = byId.get(id);
        expect(chart, id).toBeDefined();
        expect(chart!.width, id).toBeGreaterThan(100);
        expect(chart!.height, id).toBeGreaterThan(100);
      }
      // Side-by-side bars for both targets, and a drawn line per target in the distributions.
      expect(byId.get('bars-ttft')!.bars).toBe(8);
      expect(byId.get('cdf-latency')!.lines).toBe(2);
      expect(byId.get('timeline-tokens')!.lines).toBe(2);
      expect(await page.locator('#summary').textContent()).toContain('B ÷ A');
      const screenshots = path.join(repoRoot, 'test-results');
      await mkdir(screenshots, { recursive: true });
      await page.screenshot({ path: path.join(screenshots, 'bench-report.png'), fullPage: true });
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('refuses a target on another machine without --allow-remote', async () => {
    const run = await runCli(['bench', '--url', 'http://192.0.2.1:1235/v1', '--requests', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--allow-remote');
  });
});

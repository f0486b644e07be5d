import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildResult, type BenchOptions } from '../../loadgen/bench-run.ts';
import { renderHtmlReport } from '../../loadgen/html-report.ts';
import { builtInPrompts } from '../../loadgen/prompts.ts';
import { writeReport } from '../../loadgen/report-files.ts';
import type { Phase } from '../../loadgen/run-phase.ts';
import type { PhaseResult } from '../../loadgen/summarize.ts';
import type { Outcome, RequestRecord } from '../../loadgen/types.ts';

const options: BenchOptions = {
  targets: [
    { label: 'A', baseUrl: 'http://127.0.0.1:1000/v1' },
    { label: 'B', baseUrl: 'http://127.0.0.1:2000/v1' },
  ],
  models: ['m<1>'],
  scenario: 'sustained',
  concurrency: 2,
  requests: 4,
  durationMs: 60_000,
  maxTokens: 4,
  promptSet: 'short',
  prompts: builtInPrompts('short'),
  endpoint: 'chat',
  ignoreEos: false,
  includeUsage: true,
  timeoutMs: 10_000,
  warmup: false,
};

/** A request of 4 tokens: first at `ttft`, then one every `gap` ms. */
function ok(target: string, startMs: number, ttft: number, gap: number): RequestRecord {
  const offsets = [0, 1, 2, 3].map((index) => ttft + index * gap);
  return {
    target,
    step: 'c=2',
    model: 'm<1>',
    startMs,
    latencyMs: ttft + 3 * gap,
    ttftMs: ttft,
    interTokenMs: [gap, gap, gap],
    tpotMs: gap,
    outputTokens: 4,
    tokenSource: 'usage',
    chunkOffsetsMs: offsets,
    outcome: { class: 'ok', status: 200 },
  };
}

function failed(target: string, outcome: Outcome, latencyMs: number): RequestRecord {
  return {
    target,
    step: 'c=2',
    model: 'm<1>',
    startMs: 0,
    latencyMs,
    interTokenMs: [],
    outputTokens: 0,
    tokenSource: 'chunks',
    chunkOffsetsMs: [],
    outcome,
  };
}

const phase = (target: string): Phase => ({
  step: 'c=2',
  target,
  mode: 'closed',
  concurrency: 2,
  requests: 4,
});

function sampleResult() {
  const results: PhaseResult[] = [
    {
      phase: phase('A'),
      startedMs: 0,
      endedMs: 1000,
      records: [
        ok('A', 0, 100, 10),
        ok('A', 10, 200, 20),
        failed('A', { class: 'rate_limited', status: 429, code: 'queue_full' }, 5),
        failed('A', { class: 'timeout', code: 'client_timeout' }, 900),
      ],
    },
    {
      phase: phase('B'),
      startedMs: 1000,
      endedMs: 1500,
      records: [
        ok('B', 1000, 50, 10),
        ok('B', 1010, 100, 10),
        ok('B', 1020, 150, 10),
        failed('B', { class: 'unavailable', status: 503, code: 'model_loading' }, 3),
      ],
    },
  ];
  return buildResult({
    options,
    phases: [phase('A'), phase('B')],
    results,
    probes: [],
    models: new Map([
      ['A', ['m<1>']],
      ['B', ['m<1>']],
    ]),
    startedAt: new Date('2026-01-02T03:04:05.678Z'),
    runMs: 1500,
  });
}

describe('bench result', () => {
  it('computes per-target figures, error classes and B ÷ A ratios', () => {
    const result = sampleResult();
    expect(result.schema).toBe('lmx-bench/1');
    const [a, b] = result.targets;
    expect(a?.figures.requests).toBe(4);
    expect(a?.figures.outcomes).toEqual({ ok: 2, rate_limited: 1, unavailable: 0, error: 0, timeout: 1 });
    expect(a?.figures.errorCodes).toEqual({ queue_full: 1, client_timeout: 1 });
    expect(a?.figures.errorRate).toBe(0.5);
    expect(a?.figures.ttftMs).toMatchObject({ count: 2, p50: 150, max: 200 });
    expect(a?.figures.refusalLatencyMs).toMatchObject({ count: 1, p50: 5 });
    // 8 tokens in A's 1 s; 12 tokens in B's 0.5 s
    expect(a?.figures.outputTokensPerSecond).toBe(8);
    expect(b?.figures.outputTokensPerSecond).toBe(24);
    expect(b?.figures.outcomes.unavailable).toBe(1);
    expect(result.comparison?.ratios.outputTokensPerSecond).toBe(3);
    expect(result.comparison?.ratios.ttftP50).toBeCloseTo(100 / 150, 10);
    expect(result.settings).toMatchObject({
      scenario: 'sustained',
      concurrency: 2,
      maxTokens: 4,
      promptCount: 4,
    });
    expect(result.machine.cpuCount).toBeGreaterThan(0);
    expect(result.timeline.series.A?.tokensPerSecond.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    expect(result.requests).toHaveLength(8);
    expect(result.requests[0]).not.toHaveProperty('chunkOffsetsMs');
    expect(result.truncated).toBe(false);
  });

  it('renders a self-contained HTML report with its charts', () => {
    const html = renderHtmlReport(sampleResult());
    for (const id of [
      'bars-ttft',
      'bars-tpot',
      'bars-latency',
      'bars-throughput',
      'cdf-ttft',
      'cdf-latency',
      'timeline-tokens',
    ]) {
      expect(html).toContain(`<svg id="${id}"`);
    }
    expect(html).toMatch(/<rect class="bar"/);
    expect(html).toMatch(/<path class="line" d="M/);
    expect(html).toContain('B ÷ A');
    expect(html).toContain('queue_full');
    // Nothing fetched from anywhere: no external scripts, styles, images or fonts.
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|<img\b|@import|url\(/i);
    // Model names are data: escaped, never markup.
    expect(html).not.toContain('m<1>');
    expect(html).toContain('m&lt;1&gt;');
    const embedded = /<script type="application\/json" id="bench-result">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(embedded ?? 'null')).toMatchObject({ schema: 'lmx-bench/1' });
  });

  it('writes the JSON and the HTML into the output directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-report-'));
    try {
      const files = await writeReport(sampleResult(), path.join(dir, 'nested'));
      expect(path.basename(files.json)).toBe('bench-sustained-2026-01-02T03-04-05Z.json');
      const json = JSON.parse(await readFile(files.json, 'utf8')) as { targets: unknown[] };
      expect(json.targets).toHaveLength(2);
      expect(await readFile(files.html, 'utf8')).toMatch(/^<!doctype html>/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { barChart, escapeXml, formatNumber } from '../loadgen/svg-charts.ts';
import type { EngineCase, EngineFigures, EngineSide } from './engine-ratios.ts';
import type { CaseFigures, SuiteResult } from './suite-types.ts';

/** The suite's own page: one table per model, bars across models, links to each case's full report. */
export function renderSuiteHtml(result: SuiteResult): string {
  const modelNames = result.models.map((run) => run.model.name);
  const caseNames = [...new Set(result.models.flatMap((run) => run.cases.map((c) => c.name)))].filter(
    (name) => name !== 'pressure',
  );
  const pick = (name: string, value: (c: CaseFigures) => number | undefined) =>
    result.models.map((run) => {
      const found = run.cases.find((c) => c.name === name);
      return found ? (value(found) ?? null) : null;
    });
  const charts = [
    barChart({
      id: 'suite-throughput',
      title: 'Aggregate output tokens/s',
      unit: 'tok/s',
      series: modelNames,
      groups: caseNames.map((name) => ({ label: name, values: pick(name, (c) => c.outputTokensPerSecond) })),
    }),
    barChart({
      id: 'suite-ttft',
      title: 'TTFT p95 (ms)',
      unit: 'ms',
      series: modelNames,
      groups: caseNames.map((name) => ({ label: name, values: pick(name, (c) => c.ttftP95Ms) })),
    }),
    barChart({
      id: 'suite-overhead',
      title: 'Single stream: HTTP server ÷ node-llama-cpp in-process',
      unit: '×',
      series: modelNames,
      groups: [
        {
          label: 'decode tok/s ratio',
          values: result.models.map((run) => run.overhead?.decodeRatio ?? null),
        },
        { label: 'TTFT p50 ratio', values: result.models.map((run) => run.overhead?.ttftRatio ?? null) },
      ],
    }),
    barChart({
      id: 'suite-pressure',
      title: 'Under a full queue (ms)',
      unit: 'ms',
      series: modelNames,
      groups: [
        { label: '/healthz p99', values: pick('pressure', (c) => c.healthz?.p99) },
        { label: 'refusal p50', values: pick('pressure', (c) => c.refusalP50Ms) },
        { label: 'refusal p99', values: pick('pressure', (c) => c.refusalP99Ms) },
        { label: 'excess p99 (autocannon)', values: pick('pressure', (c) => c.excess?.p99) },
      ],
    }),
  ];
  const m = result.machine;
  const s = result.settings;
  const tables = result.models.map((run) => {
    const rows = run.cases.map(
      (c) =>
        `<tr><td><a href="${escapeXml(c.report)}">${escapeXml(c.name)}</a></td><td>${c.concurrency}</td><td>${c.maxTokens}</td><td>${c.ok}/${c.requests}</td>` +
        `<td>${n(c.ttftP50Ms)}</td><td>${n(c.ttftP95Ms)}</td><td>${n(c.tpotP50Ms)}</td><td>${n(c.decodeTokensPerSecond)}</td>` +
        `<td>${n(c.outputTokensPerSecond)}</td><td>${n(c.latencyP95Ms)}</td><td>${c.refused}</td><td>${n(c.refusalP99Ms)}</td>` +
        `<td>${n(c.healthz?.p99)}</td><td>${c.truncated ? 'yes' : ''}</td></tr>`,
    );
    const ip = run.inProcess;
    const inProcess = ip
      ? `<p>Overhead, single stream, interleaved rounds: node-llama-cpp in-process (${ip.runs} runs) TTFT p50 ${n(ip.ttftMs?.p50)} ms, decode ${n(ip.decodeTokensPerSecond?.p50)} tok/s; ` +
        `LMX over HTTP (${run.overHttp?.requests ?? 0} requests) TTFT p50 ${n(run.overHttp?.ttftMs?.p50)} ms, decode ${n(run.overHttp?.decodeTokensPerSecond?.p50)} tok/s. ` +
        `HTTP ÷ in-process: decode ${n(run.overhead?.decodeRatio)}×, TTFT ${n(run.overhead?.ttftRatio)}×.</p>`
      : '';
    return (
      `<section><h2>${escapeXml(run.model.name)}</h2><p class="muted">${escapeXml(run.model.file)}: ` +
      `${(run.model.parameters / 1e6).toFixed(1)} M parameters, ${(run.model.bytes / 1e6).toFixed(1)} MB, trained context ${run.model.trainContextSize}</p>` +
      `<table><thead><tr><th>Case</th><th>Streams</th><th>max_tokens</th><th>ok</th><th>TTFT p50</th><th>TTFT p95</th><th>TPOT p50</th><th>decode tok/s per stream</th>` +
      `<th>aggregate tok/s</th><th>latency p95</th><th>refused</th><th>refusal p99</th><th>/healthz p99</th><th>time-bound</th></tr></thead>` +
      `<tbody>${rows.join('')}</tbody></table>${inProcess}${engineTable(run.engine)}</section>`
    );
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LMX bench suite ${escapeXml(result.startedAt)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1340px;padding:0 16px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f5f5f5}.muted{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{border:1px solid #e5e7eb;border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.title{font-size:14px;font-weight:600}svg text.value{font-size:10px}
</style></head><body>
<h1>LMX bench suite</h1>
<p>${escapeXml(result.startedAt)} · ${escapeXml(`${m.cpuModel} × ${m.cpuCount}, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB, ${m.platform} ${m.arch}, Node ${m.node}, load ${m.loadAverage.join(' ')}`)}</p>
<p class="muted">${escapeXml(`threads ${s.threads} (${s.threadPolicy}), gpu ${s.gpu}, parallel ${s.parallel}, queue ${s.maxQueued}, context ${s.contextSize}, max_tokens ${s.maxTokens}, prompts ${s.prompt}, ${s.endpoint} endpoint, ≤ ${s.caseSeconds} s per case${s.quick ? ', quick' : ''}, rate limit ${s.rateLimit}`)}. Times in ms. Case names link to their full reports.</p>
<div class="charts">${charts.join('')}</div>
${tables.join('\n')}
</body></html>
`;
}

function n(value: number | undefined): string {
  return value === undefined ? '—' : formatNumber(value);
}

/** Issue 8's figures: LMX next to the addon floor and each peer, at 1 and 4 streams. */
function engineTable(engine: EngineFigures | undefined): string {
  if (!engine) return '';
  const peers = engine.peers;
  const perPeer = (c: EngineCase, cell: (side: EngineSide | undefined, label: string) => string) =>
    peers.map((p) => `<td>${cell(c.peers[p.label], p.label)}</td>`).join('');
  const rows = engine.cases.map(
    (c) =>
      `<tr><td>${c.streams}</td><td>${n(c.floor.decodeTokensPerSecond)}</td><td>${n(c.lmx.decodeTokensPerSecond)}</td>` +
      perPeer(c, (side) => n(side?.decodeTokensPerSecond)) +
      `<td>${n(c.lmxToFloor.decode)}</td>` +
      perPeer(c, (_, label) => n(c.lmxToPeers[label]?.decode)) +
      `<td>${n(c.floor.ttftMs)}</td><td>${n(c.lmx.ttftMs)}</td>` +
      perPeer(c, (side) => n(side?.ttftMs)) +
      `<td>${n(c.lmxToFloor.ttft)}</td>` +
      perPeer(c, (_, label) => n(c.lmxToPeers[label]?.ttft)) +
      `<td>${[c.lmx, ...peers.map((p) => c.peers[p.label])].map((side) => n(side?.ttftWorstMs)).join(' / ')}</td>` +
      `<td>${n(c.floorTokensPerDecode)}</td>` +
      `<td>${[c.lmx, ...peers.map((p) => c.peers[p.label])].map((side) => side?.failed ?? 0).join(' / ')}</td></tr>`,
  );
  const heads = (what: string) =>
    peers.map((p) => `<th>${what.replace('PEER', escapeXml(p.label))}</th>`).join('');
  const sides = ['LMX', ...peers.map((p) => escapeXml(p.label))].join(' / ');
  return (
    `<h3>Engine: ${engine.tokens} greedy tokens (decode tok/s: all streams' tokens ÷ wall span), median of ${engine.rounds} interleaved rounds, threads ${engine.threads}, UV_THREADPOOL_SIZE ${escapeXml(engine.uvThreadpoolSize)}` +
    `${peers.length ? `, peers ${peers.map((p) => `${escapeXml(p.label)} ${escapeXml(p.url)} (${escapeXml(p.model)})`).join(', ')}` : ', no peer (LMX_PEER_URL unset)'}</h3>` +
    `<table><thead><tr><th>Streams</th><th>floor tok/s</th><th>LMX tok/s</th>${heads('PEER tok/s')}<th>LMX ÷ floor</th>${heads('LMX ÷ PEER')}` +
    `<th>floor TTFT</th><th>LMX TTFT</th>${heads('PEER TTFT')}<th>TTFT LMX ÷ floor</th>${heads('TTFT LMX ÷ PEER')}<th>slowest stream's TTFT (${sides})</th><th>floor tokens/decode</th><th>short or failed (${sides})</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

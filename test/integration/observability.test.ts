import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { findBinary } from '../helpers/binaries.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

let lmx: TestServer;
let model: string;
beforeAll(async () => {
  lmx = await startTestServer(
    { startupModels: [await testModelPath()], adminKey: 'lmx-observability-test-key' },
    {
      logger: pino(
        { level: 'info', redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } },
        sink,
      ),
    },
  );
  model = (await lmx.openai.models.list()).data[0]!.id;
});
afterAll(async () => lmx?.stop());

describe('request ids', () => {
  it('echoes x-request-id and puts it on every log line of the request', async () => {
    const response = await fetch(`${lmx.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc-123' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 3 }),
    });
    expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
    await response.json();
    const ofRequest = lines.filter((line) => line.reqId === 'trace-abc-123');
    expect(ofRequest.length).toBeGreaterThanOrEqual(2);
    const inference = ofRequest.find((line) => line.msg === 'inference')!;
    expect(inference).toMatchObject({ model, completionTokens: 3, outcome: 'length' });
    for (const field of ['promptTokens', 'ttftMs', 'totalMs', 'tokensPerSecond'])
      expect(inference).toHaveProperty(field);
  });

  it('generates one when the client sends none (or an unusable one)', async () => {
    const plain = await fetch(`${lmx.url}/healthz`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${lmx.url}/healthz`, { headers: { 'x-request-id': 'a b;"<script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs a secret', async () => {
    await lmx.admin('/admin/health');
    expect(JSON.stringify(lines)).not.toContain('lmx-observability-test-key');
  });
});

describe('GET /metrics', () => {
  const names = [
    'lmx_requests_total',
    'lmx_request_duration_seconds',
    'lmx_time_to_first_token_seconds',
    'lmx_time_per_output_token_seconds',
    'lmx_prompt_tokens_total',
    'lmx_prompt_cached_tokens_total',
    'lmx_generated_tokens_total',
    'lmx_queued_requests',
    'lmx_inflight_requests',
    'lmx_rejected_requests_total',
    'lmx_ready',
    'lmx_models_loaded',
    'lmx_model_memory_bytes',
    'lmx_vram_used_bytes',
    'lmx_vram_total_bytes',
    'lmx_thermal_state',
    'process_cpu_seconds_total',
  ];

  it('exposes every named metric in Prometheus text format, with figures from real traffic', async () => {
    await lmx.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 4,
    });
    const response = await fetch(`${lmx.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const name of names) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(text).toMatch(new RegExp(`^lmx_generated_tokens_total\\{model="${model}"\\} [1-9]`, 'm'));
    expect(text).toMatch(/^lmx_models_loaded 1$/m);
    expect(text).toMatch(/^lmx_ready 1$/m);
    expect(text).toMatch(
      /^lmx_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} [1-9]/m,
    );
    expect(text).toMatch(
      new RegExp(`^lmx_time_to_first_token_seconds_count\\{model="${model}"\\} [1-9]`, 'm'),
    );
    expect(text).toMatch(new RegExp(`^lmx_model_memory_bytes\\{model="${model}"\\} [1-9]`, 'm'));
  });

  const promtool = findBinary('promtool');
  it.skipIf(!promtool)('passes promtool check metrics', async () => {
    const text = await (await fetch(`${lmx.url}/metrics`)).text();
    // promtool prints one line per problem. prom-client's own default Node metrics (nodejs_*) carry
    // lint findings we do not control; ours must have none, and nothing may fail to parse.
    const result = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const findings = `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
    expect(findings.filter((line) => !/^nodejs_\w+ /.test(line))).toEqual([]);
  });
  if (!promtool)
    console.log('skipping the promtool check: promtool is not installed (apt-get install prometheus)');
});

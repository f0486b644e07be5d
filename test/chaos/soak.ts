// A bounded soak of a real `lmx serve`: a seeded mix of chat, streamed chat, tool calls, completions left
// after the first chunk, embeddings, and loads and unloads of a third model, from a few clients at once.
// Its process's memory and file descriptors are sampled throughout; at rest afterwards nothing may be
// held: no request in flight, no sequence busy, no descriptor more than at rest after the warm-up.

import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminCall, adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';
import { ProcessSampler, sampleProcess, slopePerMinute, type ProcessSample } from './process-sampler.ts';
import { seededRandom } from './seeded-random.ts';

export const SOAK_OPERATIONS = [
  'chat',
  'chat-stream',
  'tool-call',
  'completion-abort',
  'embeddings',
  'load-unload',
] as const;
type Operation = (typeof SOAK_OPERATIONS)[number];

export interface SoakReport {
  seconds: number;
  seed: number;
  operations: Record<string, number>;
  /** Operations that failed: each names the operation and the error. */
  failures: string[];
  /** Least-squares slopes over the last two thirds of the soak. */
  rssSlopeMbPerMinute: number;
  fdSlopePerMinute: number;
  rssAtRestAfterWarmUpBytes: number | null;
  rssAtEndBytes: number | null;
  fdsAtRestAfterWarmUp: number | null;
  fdsAtEnd: number | null;
  /** At rest after the soak: the sum of lmx_inflight_requests and of every model's busy sequences. */
  inflightAtRest: number;
  busySequencesAtRest: number;
}

const ADMIN_KEY = 'lmx-soak-admin-key-0123456789';
const CLIENTS = 3;

export async function soak(options: { seconds: number; seed: number }): Promise<SoakReport> {
  const dataDir = await makeDataDir();
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  const chatModel = await ensureGeneratedModel('tiny', { chatTemplate: true });
  await copyFile(chatModel, path.join(modelsDir, 'chat.gguf'));
  await copyFile(chatModel, path.join(modelsDir, 'spare.gguf'));
  await copyFile(await ensureGeneratedModel('tiny', { poolingType: 1 }), path.join(modelsDir, 'embed.gguf'));
  const args = smallServerArgs(dataDir, ADMIN_KEY);
  args[args.indexOf('--parallel') + 1] = String(CLIENTS);
  args[args.indexOf('--context-size') + 1] = '1024';
  const server = await spawnServer(args, adminHeavyEnv);
  try {
    for (const model of ['chat', 'embed']) {
      const answer = await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model });
      if (answer.status !== 200)
        throw new Error(`load ${model}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    const openai = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      timeout: 30_000,
    });
    const pid = server.child.pid!;
    // Warm-up: every operation once, so what is made once (buffers, grammars, sequences) is at rest too.
    for (const operation of SOAK_OPERATIONS) await run(operation, openai, server);
    const atRest = await sampleAtRest(pid);
    const sampler = new ProcessSampler(pid, 500);
    const report: SoakReport = {
      seconds: options.seconds,
      seed: options.seed,
      operations: {},
      failures: [],
      rssSlopeMbPerMinute: 0,
      fdSlopePerMinute: 0,
      rssAtRestAfterWarmUpBytes: atRest?.rssBytes ?? null,
      rssAtEndBytes: null,
      fdsAtRestAfterWarmUp: atRest?.fds ?? null,
      fdsAtEnd: null,
      inflightAtRest: 0,
      busySequencesAtRest: 0,
    };
    const next = seededRandom(options.seed);
    const deadline = Date.now() + options.seconds * 1000;
    // Only one client at a time loads and unloads: the others keep the two resident models busy.
    let churning = false;
    const client = async () => {
      while (Date.now() < deadline) {
        let operation = SOAK_OPERATIONS[Math.floor(next() * SOAK_OPERATIONS.length)]!;
        if (operation === 'load-unload' && churning) operation = 'chat';
        if (operation === 'load-unload') churning = true;
        report.operations[operation] = (report.operations[operation] ?? 0) + 1;
        try {
          await run(operation, openai, server);
        } catch (error) {
          report.failures.push(`${operation}: ${String(error)}`);
        } finally {
          if (operation === 'load-unload') churning = false;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    // The first third is still warm-up (allocator arenas and every sequence's cache filling up).
    const all = sampler.stop();
    const samples = all.slice(Math.floor(all.length / 3));
    report.rssSlopeMbPerMinute = slopePerMinute(samples, (s) => s.rssBytes / 2 ** 20);
    report.fdSlopePerMinute = slopePerMinute(samples, (s) => s.fds);
    const end = await sampleAtRest(pid);
    report.rssAtEndBytes = end?.rssBytes ?? null;
    report.fdsAtEnd = end?.fds ?? null;
    report.inflightAtRest = await inflightRequests(server.url);
    const models = (await adminCall(server.url, ADMIN_KEY, 'GET', '/admin/models')).body as {
      data: { loaded: { busySequences: number } | null }[];
    };
    report.busySequencesAtRest = models.data.reduce(
      (sum, entry) => sum + (entry.loaded?.busySequences ?? 0),
      0,
    );
    return report;
  } finally {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

async function run(operation: Operation, openai: OpenAI, server: ServerProcess): Promise<void> {
  switch (operation) {
    case 'chat': {
      const answer = await openai.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Tell me a story' }],
        max_tokens: 12,
      });
      if (typeof answer.choices[0]?.message.content !== 'string') throw new Error('no content');
      return;
    }
    case 'chat-stream': {
      const stream = await openai.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Go on' }],
        max_tokens: 12,
        stream: true,
      });
      let finished = false;
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
      if (!finished) throw new Error('stream ended without a finish_reason');
      return;
    }
    case 'tool-call': {
      const answer = await openai.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              parameters: {
                type: 'object',
                properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] } },
                required: ['city'],
                additionalProperties: false,
              },
            },
          },
        ],
        tool_choice: 'required',
        max_tokens: 200,
      });
      const choice = answer.choices[0];
      if (choice?.message.tool_calls?.length !== 1)
        throw new Error(`no tool call: ${JSON.stringify(choice)}`);
      return;
    }
    case 'completion-abort': {
      const controller = new AbortController();
      const response = await fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', prompt: 'x', max_tokens: 200, stream: true, ignore_eos: true }),
        signal: controller.signal,
      });
      if (response.status !== 200) throw new Error(`completion: ${response.status}`);
      await response.body!.getReader().read();
      controller.abort();
      return;
    }
    case 'embeddings': {
      const answer = await openai.embeddings.create({ model: 'embed', input: ['one', 'two words', 'three'] });
      if (answer.data.length !== 3) throw new Error(`${answer.data.length} embeddings`);
      return;
    }
    case 'load-unload': {
      for (const action of ['load', 'unload']) {
        const answer = await adminCall(server.url, ADMIN_KEY, 'POST', `/admin/models/${action}`, {
          model: 'spare',
        });
        if (answer.status !== 200)
          throw new Error(`${action}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      return;
    }
  }
}

/** A reading once in-flight work has settled (aborted generations end at their next token). */
async function sampleAtRest(pid: number): Promise<ProcessSample | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return sampleProcess(pid);
}

async function inflightRequests(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return [...metrics.matchAll(/^lmx_inflight_requests(?:\{[^}]*\})? (\S+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

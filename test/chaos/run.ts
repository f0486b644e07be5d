// The long form of the reliability suite: `npm run chaos -- --minutes N`. Kill -9 rounds for 40 % of the
// time, a 10× overload for 10 %, a soak for 25 %, then fuzzing until the time is spent; prints the figures
// the README's Reliability section quotes.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { FAULT_POINTS, killAtRandomPoints } from './faults.ts';
import { fuzzEveryRoute } from './fuzz.ts';
import { overload } from './overload.ts';
import { soak } from './soak.ts';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer } from '../helpers/server.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, seed: { type: 'string' } },
});
const totalSeconds = Number(values.minutes) * 60;
const started = Date.now();
const deadline = started + totalSeconds * 1000;
const seed = Number(values.seed ?? Date.now() % 2 ** 31);
console.log(
  `chaos: ${values.minutes} min, seed ${seed}, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}`,
);

const faults = {
  injected: 0,
  survived: 0,
  lostAcknowledgedLoads: 0,
  lostAcknowledgedDocuments: 0,
  partialDocuments: 0,
  partialDownloadsListed: 0,
  lostAcknowledgedResponses: 0,
  worstClientNoticeMs: 0,
  byPoint: {} as Record<string, number>,
};
while (Date.now() < started + totalSeconds * 400) {
  const report = await killAtRandomPoints({ rounds: FAULT_POINTS.length, seed: seed + faults.injected });
  faults.injected += report.injected;
  faults.survived += report.survived;
  faults.lostAcknowledgedLoads += report.lostAcknowledgedLoads;
  faults.lostAcknowledgedDocuments += report.lostAcknowledgedDocuments;
  faults.partialDocuments += report.partialDocuments;
  faults.partialDownloadsListed += report.partialDownloadsListed;
  faults.lostAcknowledgedResponses += report.lostAcknowledgedResponses;
  for (const [point, count] of Object.entries(report.byPoint))
    faults.byPoint[point] = (faults.byPoint[point] ?? 0) + count;
  faults.worstClientNoticeMs = Math.max(faults.worstClientNoticeMs, report.worstClientNoticeMs);
}
console.log(`faults: ${JSON.stringify(faults)}`);

const overloaded = await overload({ multiple: 10, seconds: Math.max(10, Math.round(totalSeconds * 0.1)) });
console.log(`overload: ${JSON.stringify(overloaded)}`);
const overloadHeld =
  overloaded.unexpected.length === 0 &&
  overloaded.hung === 0 &&
  overloaded.health.healthz.failures === 0 &&
  overloaded.health.readyz.failures === 0;

const soaked = await soak({ seconds: Math.max(20, Math.round(totalSeconds * 0.25)), seed });
console.log(`soak: ${JSON.stringify(soaked)}`);
const soakHeld =
  soaked.failures.length === 0 && soaked.inflightAtRest === 0 && soaked.busySequencesAtRest === 0;

const apiKey = 'chaos-api-key-0123456789';
const lmx = await startTestServer({
  startupModels: [await testModelPath()],
  apiKey,
  limits: { maxTokens: 16 },
  rateLimit: { exemptLoopback: true },
});
let fuzzCases = 0;
try {
  const model = (await lmx.openai.models.list()).data[0]!.id;
  for (let round = 0; round === 0 || Date.now() < deadline; round++) {
    const report = await fuzzEveryRoute(
      {
        app: lmx.server.app,
        url: lmx.url,
        adminKey: () => lmx.server.adminKey.current,
        apiKey,
        hints: { model: [model], id: [model] },
      },
      {
        seed: seed + round,
        runsPerRoute: 100,
        skip: (route) => (route.url === '/admin/events' ? 'endless feed' : undefined),
      },
    );
    fuzzCases += report.cases;
  }
} finally {
  await lmx.stop();
}
console.log(`fuzz: ${fuzzCases} cases, no 5xx and every error in the API error shape`);
console.log(
  `load average at the end ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}`,
);
process.exit(
  overloadHeld &&
    soakHeld &&
    faults.survived === faults.injected &&
    faults.lostAcknowledgedLoads === 0 &&
    faults.lostAcknowledgedDocuments === 0 &&
    faults.partialDocuments === 0 &&
    faults.partialDownloadsListed === 0 &&
    faults.lostAcknowledgedResponses === 0 &&
    faults.worstClientNoticeMs < 1_000
    ? 0
    : 1,
);

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { BenchResult } from './bench-run.ts';
import { renderHtmlReport } from './html-report.ts';

/** Writes `<name>.json` and `<name>.html` into `dir` atomically; returns their paths. */
export async function writeReport(
  result: BenchResult,
  dir: string,
  name = defaultReportName(result),
  title?: string,
): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, `${name}.json`);
  const html = path.join(dir, `${name}.html`);
  await writeFileAtomic(json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFileAtomic(html, renderHtmlReport(result, title));
  return { json, html };
}

/** bench-sustained-2025-11-29T06-40-00Z: sorts by time, safe on every file system. */
export function defaultReportName(result: BenchResult): string {
  const stamp = result.startedAt.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return `bench-${result.settings.scenario}-${stamp}`;
}

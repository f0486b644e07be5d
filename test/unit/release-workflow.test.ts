import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/server.ts';

// The release workflow cannot run here (a macOS runner, Apple's tools, the signing secrets). It is
// checked with action-validator (GitHub's workflow schema, compiled to WebAssembly), then for the steps
// a release must not lose.

const source = readFileSync(path.join(repoRoot, '.github/workflows/release.yml'), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  steps: Step[];
  container?: { image: string };
}
const workflow = parse(source) as { on: Record<string, unknown>; jobs: Record<string, Job> };

describe('.github/workflows/release.yml', () => {
  it('is a valid GitHub Actions workflow', () => {
    expect(validateWorkflow(source).errors).toEqual([]);
    // The validator does reject a broken one (so the line above means something).
    const broken = source.replace('runs-on: macos-14', 'runs_on: macos-14');
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it('on a tag, tests, builds, signs, notarizes, publishes and verifies the Mac app on Apple silicon', () => {
    expect(Object.keys(workflow.on)).toEqual(['push', 'workflow_dispatch']);
    expect(workflow.on.push).toEqual({ tags: ['v*'] });
    const mac = workflow.jobs.mac!;
    expect(mac['runs-on']).toBe('macos-14');
    const runs = mac.steps.map((step) => step.run ?? '');
    const order = [
      /^npm ci\b/,
      /^npm test$/,
      /^npm run test:e2e:electron$/,
      /^npm run build$/,
      /npx electron-builder --mac --arm64 --publish "\$publish"/,
      /^codesign --verify --deep --strict\b/,
      /^spctl --assess --type execute\b/,
      /^xcrun stapler validate\b/,
    ];
    const positions = order.map((pattern) => runs.findIndex((run) => pattern.test(run.trim())));
    expect(
      positions.every((position) => position >= 0),
      JSON.stringify(positions),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const packaging = mac.steps.find((step) => step.run?.includes('electron-builder'))!;
    expect(packaging.run).toMatch(/refs\/tags\/v\*\s*\]\]; then publish=always; else publish=never/);
    expect(Object.keys(packaging.env ?? {})).toEqual(
      expect.arrayContaining([
        'CSC_LINK',
        'CSC_KEY_PASSWORD',
        'APPLE_API_KEY_ID',
        'APPLE_API_ISSUER',
        'GH_TOKEN',
      ]),
    );
  });

  it('runs .ci/run on Linux beside it', () => {
    const linux = workflow.jobs.linux!;
    expect(linux['runs-on']).toMatch(/^ubuntu-/);
    expect(linux.steps.map((step) => step.run)).toContain('.ci/run');
  });
});

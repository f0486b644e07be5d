import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromDomainError, type ApiError } from '../../server/errors.ts';
import { readModelFileInfo } from '../../server/engine/gguf.ts';
import { groupSplitFiles, ModelLibrary, modelIdForFile } from '../../server/models/library.ts';

const readFileWithoutEngine = (file: string) => readModelFileInfo(file, undefined);
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir } from '../helpers/server.ts';

describe('model ids', () => {
  it('are file names without .gguf, and split models without the part suffix', () => {
    expect(modelIdForFile('/m/Qwen2.5-7B-Q4_K_M.gguf')).toBe('Qwen2.5-7B-Q4_K_M');
    expect(modelIdForFile('/m/big-00002-of-00003.gguf')).toBe('big');
  });

  it('groups split parts into one model and says when parts are missing', () => {
    const models = groupSplitFiles(
      ['/m/big-00002-of-00002.gguf', '/m/big-00001-of-00002.gguf', '/m/half-00001-of-00003.gguf'],
      true,
    );
    expect(
      models.map(({ id, path: file, files, problem }) => ({ id, file, parts: files.length, problem })),
    ).toEqual([
      { id: 'big', file: '/m/big-00001-of-00002.gguf', parts: 2, problem: null },
      {
        id: 'half',
        file: '/m/half-00001-of-00003.gguf',
        parts: 1,
        problem: 'split model incomplete: 1 of 3 parts present',
      },
    ]);
  });
});

describe('ModelLibrary', () => {
  it('scans sub-folders, skips hidden staging folders, sums split sizes, and confines paths', async () => {
    const dataDir = await makeDataDir();
    const modelsDir = path.join(dataDir, 'models');
    const tiny = await ensureGeneratedModel('tiny');
    await mkdir(path.join(modelsDir, 'org', 'repo'), { recursive: true });
    await mkdir(path.join(modelsDir, '.downloads', 'x'), { recursive: true });
    await copyFile(tiny, path.join(modelsDir, 'org', 'repo', 'nested.gguf'));
    await writeFile(path.join(modelsDir, 'split-00001-of-00002.gguf'), 'a'.repeat(10));
    await writeFile(path.join(modelsDir, 'split-00002-of-00002.gguf'), 'b'.repeat(15));
    await writeFile(path.join(modelsDir, '.downloads', 'x', 'partial.gguf'), 'x');
    await copyFile(tiny, path.join(dataDir, 'outside.gguf'));
    await symlink(path.join(dataDir, 'outside.gguf'), path.join(modelsDir, 'link-out.gguf'));
    await symlink(path.join(modelsDir, 'org', 'repo', 'nested.gguf'), path.join(modelsDir, 'link-in.gguf'));

    const library = new ModelLibrary(modelsDir, [], readFileWithoutEngine);
    const scan = await library.scan();
    expect(scan.models.map((model) => [model.id, model.sizeBytes > 0])).toEqual([
      ['link-in', true],
      ['nested', true],
      ['split', true],
    ]);
    expect(scan.models.find((model) => model.id === 'split')?.sizeBytes).toBe(25);
    expect(scan.refused.has('link-out')).toBe(true);

    expect((await library.resolve('nested')).id).toBe('nested');
    expect((await library.resolve('org/repo/nested.gguf')).id).toBe('nested');
    for (const name of [
      'link-out',
      '../outside.gguf',
      path.join(dataDir, 'outside.gguf'),
      'org/../../outside.gguf',
    ]) {
      const error = fromDomainError(await library.resolve(name).catch((caught: unknown) => caught));
      expect((error as ApiError).statusCode, name).toBe(400);
    }
    expect(
      (fromDomainError(await library.resolve('absent').catch((caught: unknown) => caught)) as ApiError)
        .statusCode,
    ).toBe(404);

    const info = await library.info((await library.resolve('nested'))!);
    expect(info).toMatchObject({ architecture: 'llama', quantization: 'F32', error: null });
  });

  it('allows a file named on the command line outside the models dir', async () => {
    const dataDir = await makeDataDir();
    const tiny = await ensureGeneratedModel('tiny');
    const library = new ModelLibrary(path.join(dataDir, 'models'), [tiny], readFileWithoutEngine);
    const model = await library.resolve(tiny);
    expect(model.inLibrary).toBe(false);
    expect((await library.resolve(model.id)).path).toBe(tiny);
  });
});

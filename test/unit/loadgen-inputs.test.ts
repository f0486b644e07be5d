import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInPrompts, loadPrompts, parsePromptLines, PromptFileError } from '../../loadgen/prompts.ts';
import { isLoopbackHost, parseTargetUrl, serverRoot, TargetError } from '../../loadgen/target.ts';

describe('prompts', () => {
  it('has fixed built-in sets that grow in length', () => {
    const length = (set: 'short' | 'medium' | 'long') =>
      builtInPrompts(set).reduce((sum, prompt) => sum + prompt.text.length, 0);
    expect(builtInPrompts('short')).toHaveLength(4);
    expect(length('short')).toBeLessThan(length('medium'));
    expect(length('medium')).toBeLessThan(length('long'));
    expect(builtInPrompts('short')).toEqual(builtInPrompts('short'));
  });

  it('reads a JSONL file of prompts and chat messages, skipping blank lines', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lmx-prompts-'));
    try {
      const file = path.join(dir, 'p.jsonl');
      await writeFile(
        file,
        '{"prompt": "Hello"}\n\n{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}\n',
      );
      const prompts = await loadPrompts(file);
      expect(prompts).toEqual([
        { messages: [{ role: 'user', content: 'Hello' }], text: 'Hello' },
        {
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi' },
          ],
          text: 'Be brief.\nHi',
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the line of a bad prompt', async () => {
    expect(() => parsePromptLines('{"prompt": "ok"}\nnot json', 'f.jsonl')).toThrow(
      'f.jsonl:2: not valid JSON',
    );
    expect(() => parsePromptLines('{"text": "x"}', 'f.jsonl')).toThrow(PromptFileError);
    expect(() => parsePromptLines('{"messages": [{"role": "robot", "content": "x"}]}')).toThrow(
      /messages\[0\]/,
    );
    expect(() => parsePromptLines('\n\n')).toThrow(/no prompts/);
    await expect(loadPrompts('/nonexistent/prompts.jsonl')).rejects.toThrow(PromptFileError);
  });
});

describe('targets', () => {
  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1', 'a.localhost']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['10.0.0.2', '192.168.1.5', 'example.com', '[fe80::1]', '0.0.0.0']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  it('refuses a remote target without --allow-remote', () => {
    expect(() => parseTargetUrl('http://192.168.1.5:1235/v1', false)).toThrow(/--allow-remote/);
    expect(parseTargetUrl('http://192.168.1.5:1235/v1', true)).toBe('http://192.168.1.5:1235/v1');
    expect(parseTargetUrl('http://127.0.0.1:1235/v1/', false)).toBe('http://127.0.0.1:1235/v1');
    expect(() => parseTargetUrl('ftp://127.0.0.1/', false)).toThrow(TargetError);
    expect(() => parseTargetUrl('nonsense', false)).toThrow(TargetError);
  });

  it('finds the server root for /healthz', () => {
    expect(serverRoot('http://127.0.0.1:1235/v1')).toBe('http://127.0.0.1:1235');
  });
});

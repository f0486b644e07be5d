// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'bench/results', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS scripts run by Node or a tool that loads them with require (electron-builder's hooks,
    // the packaging test's `electron` stand-in).
    files: ['build/**/*.cjs', 'test/package/**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        exports: 'writable',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Dependency direction (ARCHITECTURE.md): only server/engine touches node-llama-cpp, server never touches electron.
    files: ['server/**/*.ts'],
    ignores: ['server/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node-llama-cpp', message: 'Only server/engine/ may import node-llama-cpp.' },
            { name: 'electron', message: 'The server knows nothing of Electron.' },
          ],
        },
      ],
    },
  },
  {
    // The UI reaches the server only over HTTP through renderer/api/client.ts (ARCHITECTURE.md).
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks to Electron only through window.lmx.' }],
          patterns: [
            {
              group: ['**/server/**', '**/electron/**'],
              message: 'The renderer never imports server or app code.',
            },
            { group: ['node:*'], message: 'The renderer runs in a browser.' },
          ],
        },
      ],
    },
  },
  {
    files: ['server/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'The server knows nothing of Electron.' }] },
      ],
    },
  },
);

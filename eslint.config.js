// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noLlama = { name: 'node-llama-cpp', message: 'Only server/engine/ may import node-llama-cpp.' };
const noElectron = { name: 'electron', message: 'The server knows nothing of Electron.' };

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
    // Dependency direction (ARCHITECTURE.md): only server/engine touches node-llama-cpp, server never touches
    // electron, and the layers below the API know nothing of HTTP routes.
    files: ['server/**/*.ts'],
    ignores: ['server/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noLlama, noElectron],
          patterns: [
            { group: ['**/cli/**', '**/loadgen/**'], message: 'The server does not import its clients.' },
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
        {
          paths: [noElectron],
          patterns: [
            {
              group: ['**/api/**', '**/models/**', '**/persistence/**', '**/runtime/**', '**/telemetry/**'],
              message: 'engine/ is node-llama-cpp only: the layers above use it, never the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/models/**/*.ts', 'server/persistence/**/*.ts', 'server/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noLlama, noElectron],
          patterns: [
            { group: ['**/api/**'], message: 'Domain layers throw named errors; the API maps them.' },
          ],
        },
      ],
    },
  },
  {
    // The load generator is a client: it measures any OpenAI-compatible server and imports nothing of ours.
    files: ['loadgen/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noLlama, noElectron],
          patterns: [{ group: ['**/server/**'], message: 'loadgen/ is a client: it never imports server/.' }],
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
);

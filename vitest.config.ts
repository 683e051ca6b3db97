import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (f: string): string =>
  fileURLToPath(new URL(`packages/shared/src/${f}`, import.meta.url));

export default defineConfig({
  // Tests run the sources: @quantmon/shared's package.json points plain node at its compiled dist/.
  resolve: {
    alias: [
      { find: /^@quantmon\/shared$/, replacement: src('index.ts') },
      { find: /^@quantmon\/shared\/metric-names$/, replacement: src('metric-names.ts') },
      {
        find: /^@quantmon\/client$/,
        replacement: fileURLToPath(new URL('packages/client/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: [
      'packages/**/*.test.ts',
      'services/**/*.test.ts',
      'scripts/**/*.test.ts',
      'bench/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    // A run id for test/helpers/build-once.ts: one build per run, shared by the files needing it.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests spawn Redis and services: give them room, but no timing assertions.
    testTimeout: 60_000,
    // A beforeAll starting services: each takes tens of seconds on a loaded 2-core machine.
    hookTimeout: 120_000,
    pool: 'forks',
    // Most files wait on servers, not the CPU: vitest's default (cores - 1) is one file at a time on 2 cores.
    maxWorkers: 3,
  },
});

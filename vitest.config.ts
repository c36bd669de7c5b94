import { defineConfig } from 'vitest/config';

// Default suite: everything under test/ except the slow/huge cases (test/slow, run by
// `npm run test:slow`, which CI also runs).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

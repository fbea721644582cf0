import { defineConfig } from 'vitest/config';

// Benchmarks run as one long vitest file so they can use the test peers; they measure and report, they do not judge.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});

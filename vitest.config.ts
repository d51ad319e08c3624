import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The examples import the package by its name: tsconfig.json's paths send that to src/, not dist/.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});

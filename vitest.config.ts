import { defineConfig } from 'vitest/config';

// Two projects: unit tests run on in-memory stores; integration tests talk to the real PostgreSQL and Redis
// (TEST_DATABASE_URL, TEST_REDIS_URL) and each suite makes and drops its own database or key prefix.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', '.tools/**', 'bench/peers/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', '.tools/**', 'bench/peers/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

// jest: ESM TypeScript through ts-jest (transpile only; `npm run typecheck` type-checks).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  globalSetup: '<rootDir>/tests/support/global-setup.mjs',
  testSequencer: '<rootDir>/tests/support/sequencer.cjs',
  testTimeout: 60000,
  maxWorkers: 2,
  // SAYCLAW_TEST_TIMELINE=1: when each file started and ended (tests/support/timeline-reporter.cjs)
  reporters: ['default', ...(process.env.SAYCLAW_TEST_TIMELINE ? ['<rootDir>/tests/support/timeline-reporter.cjs'] : [])],
};

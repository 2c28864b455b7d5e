/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Symbol.dispose and Symbol.asyncDispose in each test file's sandbox, as a Node process has them (for `using`).
  setupFiles: ['<rootDir>/test/helpers/disposeSymbols.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // Forked children and big payloads make some tests slow on a 2-core machine.
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};

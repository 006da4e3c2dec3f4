/** @type {import('jest').Config} */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  rootDir: '..',
  // examples/*/test, plugins/*/test and packages/*/test: each one's own suite, against the same harness.
  roots: ['<rootDir>/test', '<rootDir>/examples', '<rootDir>/plugins', '<rootDir>/packages'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/examples/*/test/**/*.test.ts', '<rootDir>/plugins/*/test/**/*.test.ts', '<rootDir>/packages/*/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', swc] },
  // Plugins import the platform as a package; under jest that is the TypeScript the harness runs, one copy of it. The
  // client from its sources, so its tests and the examples' need no build first.
  moduleNameMapper: {
    '^@loyalty/api/extension-api$': '<rootDir>/api/src/composition/extension-api.ts',
    '^@loyalty/client$': '<rootDir>/packages/client/src/index.ts',
  },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: process.env.CI ? 2 : '50%',
  verbose: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};

import type { Config } from 'jest';

// Test tiers by suffix: *.spec.ts unit (pure), *.int-spec.ts real Postgres/NATS,
// test/e2e/*.e2e-spec.ts the whole platform over HTTP.
const libs = ['contracts', 'sync-core', 'auth', 'persistence', 'messaging', 'observability', 'module-runtime', 'sync-client'];
const moduleNameMapper = Object.fromEntries(libs.map((l) => [`^@clinisync/${l}$`, `<rootDir>/libs/${l}/src/index.ts`]));
const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
};
const common = { rootDir: __dirname, moduleNameMapper, transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

const config: Config = {
  reporters: ['default'],
  // Per-project testTimeout is ignored by Jest; integration and e2e suites need the headroom.
  testTimeout: 120_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,services,tools,gateway,deploy}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{libs,services,tools,deploy}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
export default config;

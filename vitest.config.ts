import swc from 'unplugin-swc';
import { defineConfig, type TestProjectConfiguration } from 'vitest/config';

// SWC compiles TypeScript with legacy decorators and decorator metadata, which NestJS DI needs
// (esbuild, Vite's default, drops the metadata).
const plugins = [swc.vite({ tsconfigFile: 'tsconfig.base.json', jsc: { target: 'es2022' } })];
// Workspace libs resolve to their TypeScript sources in tests, so no build is needed for small tests.
const resolve = { conditions: ['@overture/source'] };

const libs = [
  'config',
  'contracts',
  'database',
  'gateway-contract',
  'grpc',
  'health',
  'idempotency',
  'identity',
  'metrics',
  'profiling',
  'resilience',
  'testing',
  'tracing',
];
const apps = ['api-gateway', 'auth', 'metadata', 'playback-queue', 'recommendation'];

const unitProject = (root: string, name: string): TestProjectConfiguration => ({
  plugins,
  resolve,
  test: {
    name,
    root,
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['../../tools/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [
      ...libs.map((lib) => unitProject(`libs/${lib}`, lib)),
      ...apps.map((app) => unitProject(`apps/${app}`, app)),
      {
        plugins,
        resolve,
        test: {
          name: 'api-gateway-e2e',
          root: 'apps/api-gateway-e2e',
          include: ['src/**/*.e2e.ts'],
          globalSetup: ['../../tools/test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One suite of real processes at a time: the machine has two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});

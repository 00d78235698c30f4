import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Test code: colocated specs, each project's test/ folder and the end-to-end suite.
const TEST_FILES = ['**/*.spec.ts', '**/test/**/*.ts', '**/*.e2e.ts'];

// What each kind of project may depend on (STYLE.md 7). Production code never reaches the test
// harness and fakes (type:testing); test files may (see the test block below).
const TYPE_CONSTRAINTS = {
  'type:app': ['type:feature', 'type:data-access', 'type:util', 'type:contracts'],
  'type:feature': ['type:feature', 'type:data-access', 'type:util', 'type:contracts'],
  'type:data-access': ['type:data-access', 'type:util', 'type:contracts'],
  'type:util': ['type:util', 'type:data-access', 'type:contracts'],
  'type:contracts': [],
  'type:testing': ['type:util', 'type:data-access', 'type:contracts'],
  'type:e2e': ['type:util', 'type:contracts', 'type:testing'],
  // Benchmarks and scripts drive the apps from outside, as a client or operator would, and set up
  // databases with the test harness.
  'type:tool': ['type:data-access', 'type:util', 'type:contracts', 'type:testing'],
};
const SCOPE_CONSTRAINTS = [
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:api-gateway', onlyDependOnLibsWithTags: ['scope:api-gateway', 'scope:shared'] },
  { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
  { sourceTag: 'scope:metadata', onlyDependOnLibsWithTags: ['scope:metadata', 'scope:shared'] },
  { sourceTag: 'scope:playback-queue', onlyDependOnLibsWithTags: ['scope:playback-queue', 'scope:shared'] },
  { sourceTag: 'scope:recommendation', onlyDependOnLibsWithTags: ['scope:recommendation', 'scope:shared'] },
  { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:shared'] },
];

/** Apps never import apps; libs are reached only through their entry points. */
function moduleBoundaries({ allow = [], testing = false } = {}) {
  const types = Object.entries(TYPE_CONSTRAINTS).map(([sourceTag, tags]) => ({
    sourceTag,
    onlyDependOnLibsWithTags: testing ? [...new Set([...tags, 'type:testing'])] : tags,
  }));
  return [
    'error',
    {
      enforceBuildableLibDependency: true,
      // The e2e suite drives the apps through the same runner as npm start (tools/suite, plain TS),
      // and runs the rollout drill's short mode (tools/rollout-drill).
      allow: ['tools/suite/suite\\.ts$', 'tools/rollout-drill/drill\\.ts$', ...allow],
      depConstraints: [...types, ...SCOPE_CONSTRAINTS],
    },
  ];
}

export default [
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.nx/**',
      '**/.data/**',
      'libs/contracts/src/generated/**',
      '**/*.mjs',
      '**/vitest.config.ts',
    ],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // Nx runs lint with the project root as working directory: each project is linted with
        // type information from its own tsconfig.spec.json (sources and tests), and only that one.
        project: 'tsconfig.spec.json',
        tsconfigRootDir: process.cwd(),
      },
    },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(),
      // A variable a closure reads before its single assignment (set once the app has started) stays let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      // A switch over a union or enum names every member or says `default` on purpose; one over a
      // plain string or number has a default. (A default after every member stays allowed: the
      // `never` check in it guards values a newer peer sends.)
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: true },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // metadata's online service never depends on the offline importer (the CLI's commands.ts may):
    // what both need lives in catalogue/.
    files: ['apps/metadata/src/**/*.ts'],
    ignores: ['apps/metadata/src/import/**', 'apps/metadata/src/commands.ts', 'apps/metadata/src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/import/*'],
              message: 'the online service must not import the importer; shared catalogue facts live in catalogue/',
            },
          ],
        },
      ],
    },
  },
  {
    // A service's errors are made in its errors file only, where each reason comes from the proto
    // contract's list (STYLE.md 4): a throw site cannot invent a reason.
    files: ['apps/{auth,metadata,playback-queue,recommendation}/src/**/*.ts'],
    ignores: ['**/*.errors.ts', '**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/^(DomainError|ThrottledError)$/]',
          message: "throw a factory from the app's *.errors.ts, whose reasons are listed in proto/overture/<domain>/v1/errors.proto",
        },
      ],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ testing: true }),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // tools/ is plain TypeScript that Node runs as it is (type stripping): one tsconfig, no build.
    files: ['tools/**/*.ts'],
    languageOptions: { parserOptions: { project: 'tsconfig.json' } },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        allow: [
          // App code only where a tool must produce exactly what the app does, and only modules Node
          // can run from source: the synthetic catalogue seed-demo also loads (type imports only).
          '^\\.\\./\\.\\./apps/metadata/src/demo/synthetic-catalogue\\.ts$',
        ],
      }),
    },
  },
  {
    // Vitest loads the global setup for every test project, whichever libs are built: it imports the
    // lib sources it needs by path.
    files: ['tools/test/global-setup.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        allow: ['^\\.\\./\\.\\./libs/(database/src/embedded|grpc/src/(dev-certificates|service-identity))\\.ts$'],
      }),
    },
  },
];

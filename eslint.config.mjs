import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/.data/**', 'libs/contracts/src/generated/**', 'tools/**', '**/*.mjs', '**/vitest.config.ts'] },
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
      // Apps never import apps; libs are reached only through their entry points, and a lib's type
      // limits what it may depend on (STYLE.md 7).
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The e2e suite drives the apps through the same runner as npm start (tools/suite, plain TS).
          allow: ['tools/suite/suite\\.ts$'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:contracts'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:api-gateway', onlyDependOnLibsWithTags: ['scope:api-gateway', 'scope:shared'] },
            { sourceTag: 'scope:auth', onlyDependOnLibsWithTags: ['scope:auth', 'scope:shared'] },
            { sourceTag: 'scope:metadata', onlyDependOnLibsWithTags: ['scope:metadata', 'scope:shared'] },
            { sourceTag: 'scope:playback-queue', onlyDependOnLibsWithTags: ['scope:playback-queue', 'scope:shared'] },
            { sourceTag: 'scope:recommendation', onlyDependOnLibsWithTags: ['scope:recommendation', 'scope:shared'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
      // A variable a closure reads before its single assignment (set once the app has started) stays let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-floating-promises': 'error',
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
        { patterns: [{ group: ['**/import/*'], message: 'the online service must not import the importer; shared catalogue facts live in catalogue/' }] },
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
    files: ['**/*.spec.ts', '**/test/**/*.ts', '**/*.e2e.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];

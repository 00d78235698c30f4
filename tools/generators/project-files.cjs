// Shared pieces of the lib and service generators: the files every Nx project here starts with.
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

function assertName(name) {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`name must be kebab-case, got ${JSON.stringify(name)}`);
}

function tsconfigs(tree, root, { kind, deps }) {
  const out = kind === 'app' ? 'tsconfig.app' : 'tsconfig.lib';
  tree.write(
    `${root}/${out}.json`,
    json({
      extends: '../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: `${out}.tsbuildinfo` },
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.spec.ts'],
      references: deps.map((dep) => ({ path: `../../libs/${dep}/tsconfig.lib.json` })),
    }),
  );
  tree.write(
    `${root}/tsconfig.spec.json`,
    json({
      extends: '../../tsconfig.base.json',
      compilerOptions: { composite: false, incremental: false, noEmit: true },
      include: ['src/**/*.ts', 'test/**/*.ts', '../../tools/test/provided-context.d.ts'],
    }),
  );
}

function registerTestProject(tree, group, name) {
  const path = 'vitest.config.ts';
  const source = tree.read(path, 'utf-8');
  const pattern = new RegExp(`const ${group} = \\[([^\\]]*)\\];`);
  const match = source.match(pattern);
  if (!match) throw new Error(`cannot find the ${group} list in ${path}`);
  const names = match[1]
    .split(',')
    .map((s) => s.trim().replace(/'/g, ''))
    .filter(Boolean);
  if (!names.includes(name)) names.push(name);
  names.sort();
  tree.write(path, source.replace(pattern, `const ${group} = [${names.map((n) => `'${n}'`).join(', ')}];`));
}

module.exports = { assertName, json, registerTestProject, tsconfigs };

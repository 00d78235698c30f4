const { assertName, json, registerTestProject, tsconfigs } = require('./project-files.cjs');

/** nx g ./tools/generators:lib <name> --type=util --deps=config,contracts */
module.exports = async function libGenerator(tree, options) {
  assertName(options.name);
  const root = `libs/${options.name}`;
  if (tree.exists(root)) throw new Error(`${root} already exists`);
  const deps = (options.deps || '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  tree.write(
    `${root}/package.json`,
    json({
      name: `@overture/${options.name}`,
      version: '0.0.0',
      private: true,
      type: 'module',
      exports: { '.': { '@overture/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
      dependencies: Object.fromEntries(deps.map((d) => [`@overture/${d}`, '*'])),
    }),
  );
  tree.write(
    `${root}/project.json`,
    json({
      name: options.name,
      $schema: '../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${root}/src`,
      projectType: 'library',
      tags: ['scope:shared', `type:${options.type || 'util'}`],
      targets: { build: {}, lint: {}, typecheck: {}, test: {} },
    }),
  );
  tsconfigs(tree, root, { kind: 'lib', deps: deps.map((d) => d) });
  // tsconfigs() points app-style at ../../libs; a lib's references are siblings.
  const lib = JSON.parse(tree.read(`${root}/tsconfig.lib.json`, 'utf-8'));
  lib.references = deps.map((d) => ({ path: `../${d}/tsconfig.lib.json` }));
  tree.write(`${root}/tsconfig.lib.json`, json(lib));
  tree.write(`${root}/src/index.ts`, `// Public entry of @overture/${options.name}: export only what other projects use.\nexport {};\n`);
  registerTestProject(tree, 'libs', options.name);
  return () => console.log(`created ${root}; run npm install to link @overture/${options.name}`);
};

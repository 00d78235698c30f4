const { assertName, json, registerTestProject, tsconfigs } = require('./project-files.cjs');

const pascal = (name) => name.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
const camel = (name) => pascal(name).replace(/^./, (c) => c.toLowerCase());

/**
 * nx g ./tools/generators:service lyrics --port=50055 --protoPackage=overture.lyrics.v1 --serviceName=LyricsService
 * A gRPC service in the shape of the others: validated config, DatabaseModule, migrations list, and
 * main.ts that starts tracing before importing the app, with `serve` and `migrate`.
 */
module.exports = async function serviceGenerator(tree, options) {
  assertName(options.name);
  const root = `apps/${options.name}`;
  if (tree.exists(root)) throw new Error(`${root} already exists`);
  const deps = ['contracts', 'config', 'database', 'grpc', 'health', 'tracing'];
  const Name = pascal(options.name);
  const name = camel(options.name);
  const contractConst = options.protoPackage.split('.').slice(1).join('_').toUpperCase();
  tree.write(
    `${root}/package.json`,
    json({
      name: `@overture/${options.name}`,
      version: '0.0.0',
      private: true,
      type: 'module',
      main: './dist/main.js',
      dependencies: Object.fromEntries(deps.map((d) => [`@overture/${d}`, '*'])),
      devDependencies: { '@overture/testing': '*' },
    }),
  );
  tree.write(
    `${root}/project.json`,
    json({
      name: options.name,
      $schema: '../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${root}/src`,
      projectType: 'application',
      tags: [`scope:${options.name}`, 'type:app'],
      targets: {
        build: {
          options: { cwd: '{projectRoot}', command: 'tsc -b tsconfig.app.json' },
          outputs: ['{projectRoot}/dist', '{projectRoot}/tsconfig.app.tsbuildinfo'],
        },
        serve: { executor: 'nx:run-commands', dependsOn: ['build'], options: { cwd: '{projectRoot}', command: 'node dist/main.js' } },
        lint: {},
        typecheck: {},
        test: {},
      },
    }),
  );
  tsconfigs(tree, root, { kind: 'app', deps });
  tree.write(
    `${root}/src/${options.name}.config.ts`,
    `import { grpcServiceConfig } from '@overture/config';
import { z } from 'zod';

export const ${name}ConfigSchema = z.object({
  ...grpcServiceConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:${options.port}'),
});

export type ${Name}Config = z.output<typeof ${name}ConfigSchema>;
`,
  );
  tree.write(
    `${root}/src/database/migrations/index.ts`,
    `/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [];
`,
  );
  tree.write(
    `${root}/src/${options.name}.module.ts`,
    `import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { migrations } from './database/migrations/index.js';
import type { ${Name}Config } from './${options.name}.config.js';

@Module({})
export class ${Name}Module {
  static forRoot(config: ${Name}Config): DynamicModule {
    return {
      module: ${Name}Module,
      imports: [
        DatabaseModule.forService('${options.name}', config, migrations),
      ],
      // Add the gRPC controller implementing the generated ${options.serviceName}Controller here.
      controllers: [],
      providers: [],
    };
  }
}
`,
  );
  tree.write(
    `${root}/src/commands.ts`,
    `import 'reflect-metadata';
import { ${contractConst} } from '@overture/contracts';
import { databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { createLogger, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { migrations } from './database/migrations/index.js';
import type { ${Name}Config } from './${options.name}.config.js';
import { ${Name}Module } from './${options.name}.module.js';

export async function migrate(config: ${Name}Config): Promise<void> {
  const logger = createLogger({ service: '${options.name}', level: config.LOG_LEVEL });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? \`applied \${applied.join(', ')}\` : 'schema up to date', 'Migrate');
}

export async function serve(config: ${Name}Config, tracing: TracingHandle): Promise<void> {
  await serveGrpcService({
    module: ${Name}Module.forRoot(config),
    contract: ${contractConst},
    serviceNames: ['${options.protoPackage}.${options.serviceName}'],
    settings: config,
    logger: createLogger({ service: '${options.name}', level: config.LOG_LEVEL }),
    readiness: (app) => databasePing(app.get(DataSource)),
    tracing,
  });
}
`,
  );
  tree.write(
    `${root}/src/main.ts`,
    `import { loadConfigOrExit } from '@overture/config';
import { startTracing } from '@overture/tracing';
import { ${name}ConfigSchema } from './${options.name}.config.js';

// Tracing must patch http, grpc-js and pg before they are loaded, so the app is imported after it.
const config = loadConfigOrExit(${name}ConfigSchema, '${options.name}');
const [command = 'serve'] = process.argv.slice(2);
try {
  const commands = await import('./commands.js');
  switch (command) {
    case 'migrate':
      await commands.migrate(config);
      break;
    case 'serve':
      await commands.serve(
        config,
        startTracing({ serviceName: '${options.name}', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, samplerRatio: config.OTEL_TRACES_SAMPLER_RATIO }),
      );
      break;
    default:
      throw new Error(\`unknown command \${JSON.stringify(command)}; usage: main.js [serve | migrate]\`);
  }
} catch (error) {
  process.stderr.write(\`${options.name}: \${error instanceof Error ? (error.stack ?? error.message) : String(error)}\\n\`);
  process.exit(1);
}
`,
  );
  registerTestProject(tree, 'apps', options.name);
  return () => console.log(`created ${root}; add its contract to libs/contracts, its controller to the module, then npm install`);
};

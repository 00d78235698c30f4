import { runServiceMain, serviceCommand } from '@overture/grpc';
import { recommendationConfigSchema } from './recommendation.config.js';

await runServiceMain({
  name: 'recommendation',
  commands: {
    serve: serviceCommand(recommendationConfigSchema, async ({ config, tracing }) =>
      (await import('./commands.js')).serve(config, tracing),
    ),
    migrate: serviceCommand(recommendationConfigSchema, async ({ config }) => (await import('./commands.js')).migrate(config)),
  },
  usage: 'usage: main.js [serve | migrate]',
});

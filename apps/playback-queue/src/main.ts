import { runServiceMain, serviceCommand } from '@overture/grpc';
import { playbackConfigSchema } from './playback.config.js';

await runServiceMain({
  name: 'playback-queue',
  commands: {
    serve: serviceCommand(playbackConfigSchema, async ({ config, tracing }) => (await import('./commands.js')).serve(config, tracing)),
    migrate: serviceCommand(playbackConfigSchema, async ({ config }) => (await import('./commands.js')).migrate(config)),
  },
  usage: 'usage: main.js [serve | migrate]',
});

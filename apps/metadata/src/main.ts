import { runServiceMain, serviceCommand } from '@overture/grpc';
import { CommandError } from './command-error.js';
import { metadataConfigSchema } from './metadata.config.js';

await runServiceMain({
  name: 'metadata',
  // Every command reads the whole configuration; runCommand knows the commands and reports a wrong one.
  anyCommand: serviceCommand(metadataConfigSchema, async ({ command, args, config, tracing }) =>
    (await import('./commands.js')).runCommand(command, args, config, tracing),
  ),
  commandError: CommandError,
});

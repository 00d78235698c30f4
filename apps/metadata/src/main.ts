import { loadConfigOrExit } from '@overture/config';
import { startTracing } from '@overture/tracing';
import { CommandError } from './command-error.js';
import { metadataConfigSchema } from './metadata.config.js';

// Tracing must patch http, grpc-js and pg before they are loaded, so the app is imported after it.
const config = loadConfigOrExit(metadataConfigSchema, 'metadata');
const [command = 'serve', ...args] = process.argv.slice(2);
const tracing =
  command === 'serve'
    ? startTracing({ serviceName: 'metadata', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, samplerRatio: config.OTEL_TRACES_SAMPLER_RATIO })
    : undefined;
const { runCommand } = await import('./commands.js');
try {
  await runCommand(command, args, config, tracing);
} catch (error) {
  if (error instanceof CommandError) {
    process.stderr.write(`metadata: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`metadata: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

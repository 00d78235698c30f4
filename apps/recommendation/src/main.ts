import { loadConfigOrExit } from '@overture/config';
import { startTracing } from '@overture/tracing';
import { recommendationConfigSchema } from './recommendation.config.js';

// Tracing must patch http, grpc-js and pg before they are loaded, so the app is imported after it.
const config = loadConfigOrExit(recommendationConfigSchema, 'recommendation');
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
        startTracing({ serviceName: 'recommendation', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, samplerRatio: config.OTEL_TRACES_SAMPLER_RATIO }),
      );
      break;
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}; usage: main.js [serve | migrate]`);
  }
} catch (error) {
  process.stderr.write(`recommendation: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

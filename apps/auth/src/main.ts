import { loadConfigOrExit } from '@overture/config';
import { startTracing } from '@overture/tracing';
import { authAdminConfigSchema, authConfigSchema, authMigrateConfigSchema } from './auth.config.js';

// Tracing must patch http, grpc-js and pg before they are loaded, so the app is imported after it.
const [command = 'serve'] = process.argv.slice(2);
try {
  switch (command) {
    case 'migrate': {
      // Migrations need the database only, so the migration job is not handed the key material.
      const config = loadConfigOrExit(authMigrateConfigSchema, 'auth');
      const { migrate } = await import('./commands.js');
      await migrate(config);
      break;
    }
    case 'serve': {
      const config = loadConfigOrExit(authConfigSchema, 'auth');
      const tracing = startTracing({ serviceName: 'auth', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, samplerRatio: config.OTEL_TRACES_SAMPLER_RATIO });
      const { serve } = await import('./commands.js');
      await serve(config, tracing);
      break;
    }
    case 'grant-role':
    case 'revoke-role': {
      const config = loadConfigOrExit(authAdminConfigSchema, 'auth');
      const { changeRoleByEmail } = await import('./commands.js');
      const [email, role] = process.argv.slice(3);
      await changeRoleByEmail(config, command === 'grant-role', email, role);
      break;
    }
    case 'rotate-keys': {
      const config = loadConfigOrExit(authConfigSchema, 'auth');
      const { rotateKeys } = await import('./commands.js');
      await rotateKeys(config);
      break;
    }
    default:
      throw new Error(
        `unknown command ${JSON.stringify(command)}; usage: main.js [serve | migrate | rotate-keys | grant-role <email> <role> | revoke-role <email> <role>]`,
      );
  }
} catch (error) {
  process.stderr.write(`auth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

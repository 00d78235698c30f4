import { runServiceMain, serviceCommand } from '@overture/grpc';
import { authAdminConfigSchema, authConfigSchema, authMigrateConfigSchema } from './auth.config.js';

const changeRole = (grant: boolean) =>
  serviceCommand(authAdminConfigSchema, async ({ config, args: [email, role] }) =>
    (await import('./commands.js')).changeRoleByEmail(config, grant, email, role),
  );

await runServiceMain({
  name: 'auth',
  commands: {
    serve: serviceCommand(authConfigSchema, async ({ config, tracing }) => (await import('./commands.js')).serve(config, tracing)),
    // Migrations need the database only, so the migration job is not handed the key material.
    migrate: serviceCommand(authMigrateConfigSchema, async ({ config }) => (await import('./commands.js')).migrate(config)),
    'rotate-keys': serviceCommand(authConfigSchema, async ({ config }) => (await import('./commands.js')).rotateKeys(config)),
    'grant-role': changeRole(true),
    'revoke-role': changeRole(false),
  },
  usage: 'usage: main.js [serve | migrate | rotate-keys | grant-role <email> <role> | revoke-role <email> <role>]',
});

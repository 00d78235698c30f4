import { createDataSource } from '@overture/database';
import { ROLES } from '@overture/identity';
import { createLogger } from '@overture/tracing';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import type { AuthAdminConfig } from '../auth.config.js';
import { PolicyRepository } from '../policy/policy.repository.js';
import { PolicyService } from '../policy/policy.service.js';
import { normalizeEmail } from './email.js';
import { changeRole } from './role-change.js';
import { UserRepository } from './user.repository.js';

/** `main.js grant-role|revoke-role <email> <role>`: how the first admin is made. */
export async function changeRoleByEmail(
  config: AuthAdminConfig,
  grant: boolean,
  email: string | undefined,
  role: string | undefined,
): Promise<void> {
  if (!email || !role || !(ROLES as readonly string[]).includes(role)) {
    throw new Error(`usage: main.js ${grant ? 'grant-role' : 'revoke-role'} <email> <${ROLES.join('|')}>`);
  }
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL });
  const dataSource = await createDataSource({ url: config.DATABASE_URL, entities: [], migrations: [] }).initialize();
  try {
    const users = new UserRepository(dataSource);
    const audit = new SecurityEventRepository(dataSource);
    const policy = new PolicyService(config, new PolicyRepository(dataSource), audit);
    const user = await users.findWithPasswordHash(normalizeEmail(email));
    if (!user) throw new Error(`no account with email ${email}`);
    const updated = await changeRole({ users, policy, audit }, { userId: user.user.id, role, grant });
    logger.log(`${updated.email}: roles ${updated.roles.join(', ')}`, 'Roles');
  } finally {
    await dataSource.destroy();
  }
}

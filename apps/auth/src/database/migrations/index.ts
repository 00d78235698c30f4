import { CreateAuthTables1763827200000 } from './1763827200000-create-auth-tables.js';
import { AddSessionsPolicyAndAudit1763913600000 } from './1763913600000-add-sessions-policy-and-audit.js';
import { AddSessions1796428800000 } from './1796428800000-add-sessions.js';
import { IdempotencyKeys1796500000000 } from './1796500000000-idempotency-keys.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [
  CreateAuthTables1763827200000,
  AddSessionsPolicyAndAudit1763913600000,
  AddSessions1796428800000,
  IdempotencyKeys1796500000000,
];

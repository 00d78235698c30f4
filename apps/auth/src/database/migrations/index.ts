import { CreateAuthTables1763827200000 } from './1763827200000-create-auth-tables.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [CreateAuthTables1763827200000];

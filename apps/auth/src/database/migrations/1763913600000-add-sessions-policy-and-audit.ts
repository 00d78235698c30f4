import type { MigrationInterface, QueryRunner } from 'typeorm';

const ROLES = ['listener', 'premium', 'curator', 'admin'];
const PERMISSIONS: [string, string][] = [
  ['catalogue:read', 'browse and search the catalogue'],
  ['catalogue:write', 'edit tracks, artists and albums'],
  ['player:read', 'read one’s own queue and playback state'],
  ['player:write', 'change one’s own queue and playback state'],
  ['recommendations:read', 'get recommendations'],
  ['users:admin', 'grant and revoke roles, read the security log'],
  ['policy:admin', 'edit the role→permission map'],
];
const LISTENER = ['catalogue:read', 'player:read', 'player:write', 'recommendations:read'];
const SEED: Record<string, string[]> = {
  listener: LISTENER,
  premium: LISTENER,
  curator: [...LISTENER, 'catalogue:write'],
  admin: PERMISSIONS.map(([name]) => name),
};

export class AddSessionsPolicyAndAudit1763913600000 implements MigrationInterface {
  name = 'AddSessionsPolicyAndAudit1763913600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE permissions (name text PRIMARY KEY, description text NOT NULL)');
    await runner.query(`
      CREATE TABLE role_permissions (
        role text NOT NULL CHECK (role = ANY (ARRAY['listener', 'premium', 'curator', 'admin']::text[])),
        permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
        PRIMARY KEY (role, permission)
      )`);
    for (const [name, description] of PERMISSIONS) {
      await runner.query('INSERT INTO permissions (name, description) VALUES ($1, $2)', [name, description]);
    }
    for (const role of ROLES) {
      for (const permission of SEED[role] ?? []) {
        await runner.query('INSERT INTO role_permissions (role, permission) VALUES ($1, $2)', [role, permission]);
      }
    }
    // One row: the policy version. Every change bumps it in its own transaction, which also
    // serialises changes, so versions follow commit order (and NOTIFY delivers in commit order).
    await runner.query(`
      CREATE TABLE policy_state (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        version bigint NOT NULL DEFAULT 0
      )`);
    await runner.query('INSERT INTO policy_state DEFAULT VALUES');
    // Sessions whose access tokens must stop working before they expire; kept until they would have.
    await runner.query(`
      CREATE TABLE session_revocations (
        session_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX session_revocations_expires_at ON session_revocations (expires_at)');
    // Bumped with every role change and put in access tokens (claim rv): a token with an older
    // version carries stale roles. Exact, unlike comparing issue times in whole seconds.
    await runner.query('ALTER TABLE users ADD COLUMN roles_version integer NOT NULL DEFAULT 0');
    // Users whose roles changed recently: verifiers refuse their tokens with an older roles version.
    await runner.query(`
      CREATE TABLE user_role_changes (
        user_id uuid PRIMARY KEY,
        roles_version integer NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    // Sign-in attempts per account (normalised email) and per client address, shared by replicas.
    await runner.query(`
      CREATE TABLE sign_in_throttle (
        key text PRIMARY KEY,
        attempts integer NOT NULL,
        blocked_until timestamptz,
        updated_at timestamptz NOT NULL
      )`);
    // No foreign keys: the log outlives the accounts it mentions.
    await runner.query(`
      CREATE TABLE security_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        kind text NOT NULL,
        user_id uuid,
        actor_user_id uuid,
        session_id uuid,
        client_address text,
        detail jsonb NOT NULL DEFAULT '{}'
      )`);
    await runner.query('CREATE INDEX security_events_occurred_at ON security_events (occurred_at DESC)');
    await runner.query('CREATE INDEX security_events_user_id ON security_events (user_id, occurred_at DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE security_events');
    await runner.query('DROP TABLE sign_in_throttle');
    await runner.query('DROP TABLE user_role_changes');
    await runner.query('ALTER TABLE users DROP COLUMN roles_version');
    await runner.query('DROP TABLE session_revocations');
    await runner.query('DROP TABLE policy_state');
    await runner.query('DROP TABLE role_permissions');
    await runner.query('DROP TABLE permissions');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessions1796428800000 implements MigrationInterface {
  name = 'AddSessions1796428800000';

  async up(runner: QueryRunner): Promise<void> {
    // One row per session (refresh-token family). Refresh locks it and every way of ending a session
    // updates it, so the two serialise on one row: under READ COMMITTED an UPDATE of token rows never
    // sees the successor a concurrent refresh inserts.
    await runner.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        -- When the newest refresh token expires: the session ends then unless it refreshes.
        idle_expires_at timestamptz NOT NULL,
        -- The absolute end, however often it refreshes.
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await runner.query('CREATE INDEX sessions_user_id ON sessions (user_id)');
    // When the session ended (or will), for the purge.
    await runner.query('CREATE INDEX sessions_ended_at ON sessions ((coalesce(revoked_at, least(expires_at, idle_expires_at))))');
    // Every existing family becomes a session. Existing sessions get the default absolute lifetime of
    // 90 days from sign-in, but never less than their newest token has: the migration signs no one out.
    await runner.query(`
      INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, expires_at, revoked_at)
      SELECT family_id, (array_agg(user_id))[1], min(created_at), max(created_at), max(expires_at),
             greatest(min(created_at) + interval '90 days', max(expires_at)),
             CASE WHEN bool_or(used_at IS NULL AND revoked_at IS NULL AND expires_at > now()) THEN NULL ELSE max(revoked_at) END
      FROM refresh_tokens GROUP BY family_id`);
    await runner.query(
      'ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_family_id_fkey FOREIGN KEY (family_id) REFERENCES sessions (id) ON DELETE CASCADE',
    );
    // For the purge of expired and long-used tokens and of idle throttle rows.
    await runner.query('CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)');
    await runner.query('CREATE INDEX refresh_tokens_used_at ON refresh_tokens (used_at) WHERE used_at IS NOT NULL');
    await runner.query('CREATE INDEX sign_in_throttle_updated_at ON sign_in_throttle (updated_at)');
    // "Does anyone still hold a role with users:admin / policy:admin?" without reading every user.
    await runner.query('CREATE INDEX users_roles ON users USING gin (roles)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX users_roles');
    await runner.query('DROP INDEX sign_in_throttle_updated_at');
    await runner.query('DROP INDEX refresh_tokens_used_at');
    await runner.query('DROP INDEX refresh_tokens_expires_at');
    await runner.query('ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_family_id_fkey');
    // Before this table, a session was revoked through its tokens: carry revocations back so none is lost.
    await runner.query(`
      UPDATE refresh_tokens t SET revoked_at = s.revoked_at
      FROM sessions s
      WHERE t.family_id = s.id AND s.revoked_at IS NOT NULL AND t.revoked_at IS NULL AND t.used_at IS NULL`);
    await runner.query('DROP TABLE sessions');
  }
}

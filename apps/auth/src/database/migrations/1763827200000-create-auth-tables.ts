import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuthTables1763827200000 implements MigrationInterface {
  name = 'CreateAuthTables1763827200000';

  async up(runner: QueryRunner): Promise<void> {
    // Emails are stored normalised (trimmed, lower-cased) by the service, so a plain unique index on
    // the column is the case-insensitive uniqueness rule, without depending on the citext extension.
    await runner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        display_name text NOT NULL,
        roles text[] NOT NULL DEFAULT '{listener}',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_roles_known CHECK (roles <@ ARRAY['listener', 'premium', 'curator', 'admin']::text[])
      )`);
    await runner.query(`
      CREATE TABLE credentials (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        -- PHC string: $argon2id$v=19$m=…,t=…,p=1$<salt>$<hash>
        password_hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per refresh token ever issued; a family is one sign-in session and its rotations.
    await runner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        family_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
      )`);
    await runner.query('CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id)');
    await runner.query('CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id)');
    await runner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        public_jwk jsonb NOT NULL,
        -- AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY: 12-byte IV, 16-byte tag, then the PKCS#8 ciphertext.
        private_key_encrypted bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Published in the JWKS from created_at; used for signing from activates_at until retires_at.
        activates_at timestamptz NOT NULL DEFAULT now(),
        retires_at timestamptz,
        CHECK (retires_at IS NULL OR retires_at > activates_at)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE signing_keys');
    await runner.query('DROP TABLE refresh_tokens');
    await runner.query('DROP TABLE credentials');
    await runner.query('DROP TABLE users');
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { KeyedWrite } from '@overture/idempotency';
import { DataSource } from 'typeorm';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';
import type { NewUser, User } from './user.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  roles: string[];
  roles_version: number;
  created_at: Date;
}

const COLUMNS = 'u.id, u.email, u.display_name, u.roles, u.roles_version, u.created_at';

@Injectable()
export class UserRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Creates the user and its password credential in one transaction. Returns undefined, writing
   * nothing, when the (normalised) email is already taken.
   */
  /** The new user, or undefined when the email is taken; `keyed` is claimed and recorded in the same transaction. */
  async insertWithCredential(user: NewUser, passwordHash: string, keyed?: KeyedWrite<User>): Promise<User | undefined> {
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const rows: UserRow[] = await em.query(
        `INSERT INTO users AS u (email, display_name) VALUES ($1, $2)
         ON CONFLICT (email) DO NOTHING
         RETURNING ${COLUMNS}`,
        [user.email, user.displayName],
      );
      const row = rows[0];
      if (!row) return undefined;
      await em.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [row.id, passwordHash]);
      const created = toUser(row);
      await keyed?.record(em, created);
      return created;
    });
  }

  async findById(id: string): Promise<User | undefined> {
    const rows: UserRow[] = await this.db.query(`SELECT ${COLUMNS} FROM users u WHERE u.id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  async updatePasswordHash(userId: string, passwordHash: string, runner: SqlRunner = this.db): Promise<void> {
    await runner.query('UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, passwordHash]);
  }

  /**
   * The user's password hash, locked against change until `tx` ends (a password change waits for
   * the sign-ins that lock it, and so sees their sessions).
   */
  async lockPasswordHash(tx: SqlRunner, userId: string): Promise<string | undefined> {
    const rows: { password_hash: string }[] = await tx.query('SELECT password_hash FROM credentials WHERE user_id = $1 FOR SHARE', [
      userId,
    ]);
    return rows[0]?.password_hash;
  }

  /** The user and its password hash, by id. */
  async findByIdWithPasswordHash(id: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const rows: (UserRow & { password_hash: string })[] = await this.db.query(
      `SELECT ${COLUMNS}, c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.id = $1`,
      [id],
    );
    const row = rows[0];
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  /** Deletes the user; credentials and refresh tokens go with it (ON DELETE CASCADE). */
  async delete(tx: SqlRunner, id: string): Promise<boolean> {
    const rows: unknown[] = await tx.query('WITH deleted AS (DELETE FROM users WHERE id = $1 RETURNING id) SELECT id FROM deleted', [id]);
    return rows.length > 0;
  }

  /** Adds or removes one role, locking the row; undefined when there is no such user. */
  async changeRole(tx: SqlRunner, id: string, role: string, grant: boolean): Promise<{ user: User; changed: boolean } | undefined> {
    const before: UserRow[] = await tx.query(`SELECT ${COLUMNS} FROM users u WHERE u.id = $1 FOR UPDATE`, [id]);
    if (!before[0]) return undefined;
    const had = before[0].roles.includes(role);
    if (had === grant) return { user: toUser(before[0]), changed: false };
    const rows: UserRow[] = await tx.query(
      grant
        ? `WITH u AS (UPDATE users SET roles = array_append(roles, $2), roles_version = roles_version + 1 WHERE id = $1 RETURNING *) SELECT ${COLUMNS} FROM u`
        : `WITH u AS (UPDATE users SET roles = array_remove(roles, $2), roles_version = roles_version + 1 WHERE id = $1 RETURNING *) SELECT ${COLUMNS} FROM u`,
      [id, role],
    );
    const [row] = rows;
    if (!row) return undefined;
    return { user: toUser(row), changed: true };
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** The user with this (normalised) email and its password hash, if both exist. */
  async findWithPasswordHash(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const rows: (UserRow & { password_hash: string })[] = await this.db.query(
      `SELECT ${COLUMNS}, c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.email = $1`,
      [email],
    );
    const row = rows[0];
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    rolesVersion: row.roles_version,
    createdAt: row.created_at,
  };
}

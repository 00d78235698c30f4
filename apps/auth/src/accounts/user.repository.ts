import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NewUser, User } from './user.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  roles: string[];
  created_at: Date;
}

const COLUMNS = 'u.id, u.email, u.display_name, u.roles, u.created_at';

@Injectable()
export class UserRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Creates the user and its password credential in one transaction. Returns undefined, writing
   * nothing, when the (normalised) email is already taken.
   */
  async insertWithCredential(user: NewUser, passwordHash: string): Promise<User | undefined> {
    return this.db.transaction(async (em) => {
      const rows: UserRow[] = await em.query(
        `INSERT INTO users AS u (email, display_name) VALUES ($1, $2)
         ON CONFLICT (email) DO NOTHING
         RETURNING ${COLUMNS}`,
        [user.email, user.displayName],
      );
      const row = rows[0];
      if (!row) return undefined;
      await em.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [row.id, passwordHash]);
      return toUser(row);
    });
  }

  async findById(id: string): Promise<User | undefined> {
    const rows: UserRow[] = await this.db.query(`SELECT ${COLUMNS} FROM users u WHERE u.id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
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
  return { id: row.id, email: row.email, displayName: row.display_name, roles: row.roles, createdAt: row.created_at };
}

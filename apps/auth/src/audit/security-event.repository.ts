import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';

export type SecurityEventKind =
  | 'SIGN_IN'
  | 'SIGN_IN_FAILED'
  | 'SIGN_IN_THROTTLED'
  | 'REFRESH_TOKEN_REUSED'
  | 'SESSION_REVOKED'
  | 'PASSWORD_CHANGED'
  | 'PASSWORD_REHASHED'
  | 'ACCOUNT_DELETED'
  | 'ROLE_GRANTED'
  | 'ROLE_REVOKED'
  | 'POLICY_CHANGED';

export interface NewSecurityEvent {
  kind: SecurityEventKind;
  userId?: string;
  actorUserId?: string;
  sessionId?: string;
  clientAddress?: string;
  detail?: Record<string, unknown>;
}

export interface SecurityEvent extends Required<Omit<NewSecurityEvent, 'detail'>> {
  id: string;
  occurredAt: Date;
  detail: Record<string, unknown>;
}

interface SecurityEventRow {
  id: string;
  occurred_at: Date;
  kind: SecurityEventKind;
  user_id: string | null;
  actor_user_id: string | null;
  session_id: string | null;
  client_address: string | null;
  detail: Record<string, unknown>;
}

/** The audit log of security events: append-only, never updated. */
@Injectable()
export class SecurityEventRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async record(event: NewSecurityEvent, runner: SqlRunner = this.db): Promise<void> {
    await runner.query(
      `INSERT INTO security_events (kind, user_id, actor_user_id, session_id, client_address, detail)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        event.kind,
        event.userId ?? null,
        event.actorUserId ?? null,
        event.sessionId ?? null,
        event.clientAddress ?? null,
        JSON.stringify(event.detail ?? {}),
      ],
    );
  }

  async list(filter: { userId?: string; limit: number }): Promise<SecurityEvent[]> {
    const rows: SecurityEventRow[] = await this.db.query(
      `SELECT id, occurred_at, kind, user_id, actor_user_id, session_id, client_address, detail FROM security_events
       WHERE ($1::uuid IS NULL OR user_id = $1) ORDER BY occurred_at DESC LIMIT $2`,
      [filter.userId ?? null, filter.limit],
    );
    return rows.map((row) => ({
      id: row.id,
      occurredAt: row.occurred_at,
      kind: row.kind,
      userId: row.user_id ?? '',
      actorUserId: row.actor_user_id ?? '',
      sessionId: row.session_id ?? '',
      clientAddress: row.client_address ?? '',
      detail: row.detail,
    }));
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Device } from '../playback/playback.js';

// The devices list is for people; a user with more than this many is shown the most recent.
const MAX_LISTED = 100;

/** The devices each user has used, when each was last seen, and the newest progress report accepted from each. */
@Injectable()
export class DeviceRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Marks the device as seen now, creating it on first sight, and returns the client timestamp of
   * its newest accepted progress report (null if none carried one).
   */
  async touch(em: EntityManager, userId: string, deviceId: string, now: Date): Promise<number | null> {
    const rows: { last_report_at: string | null }[] = await em.query(
      `INSERT INTO devices (user_id, device_id, last_seen_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_at = greatest(devices.last_seen_at, EXCLUDED.last_seen_at)
       RETURNING last_report_at`,
      [userId, deviceId, now],
    );
    const value = rows[0]?.last_report_at;
    return value === null || value === undefined ? null : Number(value);
  }

  async saveLastReport(em: EntityManager, userId: string, deviceId: string, clientTimestamp: number): Promise<void> {
    await em.query('UPDATE devices SET last_report_at = $3 WHERE user_id = $1 AND device_id = $2', [userId, deviceId, clientTimestamp]);
  }

  /** Most recently seen first. */
  async list(userId: string): Promise<Device[]> {
    const rows: { device_id: string; last_seen_at: Date }[] = await this.db.query(
      'SELECT device_id, last_seen_at FROM devices WHERE user_id = $1 ORDER BY last_seen_at DESC, device_id LIMIT $2',
      [userId, MAX_LISTED],
    );
    return rows.map((row) => ({ deviceId: row.device_id, lastSeenAt: row.last_seen_at }));
  }
}

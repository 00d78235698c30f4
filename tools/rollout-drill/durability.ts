// Whether every write the gateway acknowledged is in playback-queue's database at the end: its
// Idempotency-Key row (stored in the write's own transaction), the queue item it created, and a
// queue or player version at least the one it answered.
import pg from 'pg';
import type { AckedWrite } from './load.ts';
import type { LostWrite } from './report.ts';

export async function lostWrites(playbackDatabaseUrl: string, acked: readonly AckedWrite[]): Promise<LostWrite[]> {
  const client = new pg.Client({ connectionString: playbackDatabaseUrl });
  await client.connect();
  try {
    const keys = new Set(
      (
        await client.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1::text[])', [
          acked.map((w) => w.idempotencyKey),
        ])
      ).rows.map((r) => r.key),
    );
    const itemIds = acked.flatMap((w) => (w.queueItemId ? [w.queueItemId] : []));
    const items = new Set(
      (await client.query<{ id: string }>('SELECT id::text FROM queue_items WHERE id = ANY($1::uuid[])', [itemIds])).rows.map((r) => r.id),
    );
    const users = [...new Set(acked.map((w) => w.userId))];
    const versionsOf = async (table: 'queues' | 'playback_states') =>
      new Map(
        (
          await client.query<{ user_id: string; version: string }>(
            `SELECT user_id::text, version FROM ${table} WHERE user_id = ANY($1::uuid[])`,
            [users],
          )
        ).rows.map((r) => [r.user_id, Number(r.version)]),
      );
    const versions = { queue: await versionsOf('queues'), state: await versionsOf('playback_states') };
    const lost: LostWrite[] = [];
    for (const write of acked) {
      const why: string[] = [];
      if (!keys.has(write.idempotencyKey)) why.push('no idempotency key row');
      if (write.queueItemId && !items.has(write.queueItemId)) why.push(`queue item ${write.queueItemId} missing`);
      if (write.version) {
        const stored = versions[write.version.kind].get(write.userId) ?? -1;
        if (stored < write.version.value) why.push(`${write.version.kind} version ${stored} < acknowledged ${write.version.value}`);
      }
      if (why.length) lost.push({ write, why: why.join('; ') });
    }
    return lost;
  } finally {
    await client.end();
  }
}

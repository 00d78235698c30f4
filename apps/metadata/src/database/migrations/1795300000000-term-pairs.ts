import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { PoolClient } from 'pg';
import copyStreams from 'pg-copy-streams';

// What this migration ran, frozen (it must not change when the live pair code does).
const PAIRED_IDS_SQL = `SELECT id FROM catalogue_terms WHERE term ~ '^[gmlbkovey]:'`;
const TERM_IDS_COPY_SQL = 'COPY (SELECT term_ids FROM tracks) TO STDOUT';
const ADD_PAIR_COUNTS_SQL = `
  INSERT INTO catalogue_term_pairs (term_a, term_b, track_count)
  SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[]) ORDER BY 1, 2
  ON CONFLICT (term_a, term_b) DO UPDATE SET track_count = catalogue_term_pairs.track_count + EXCLUDED.track_count`;

/**
 * `catalogue_term_pairs`: how many tracks have both of two closed-vocabulary terms (see
 * catalogue/term-pairs.ts), in both orders so that one index range gives a term's every pair.
 * Counted here from the tracks already there.
 */
export class TermPairs1795300000000 implements MigrationInterface {
  name = 'TermPairs1795300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE catalogue_term_pairs (
        term_a integer NOT NULL,
        term_b integer NOT NULL,
        track_count bigint NOT NULL,
        PRIMARY KEY (term_a, term_b)
      )`);
    // The runner's own connection (TypeORM types it `any`), so the count is in the migration's transaction.
    await countPairs((await runner.connect()) as PoolClient);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE catalogue_term_pairs');
  }
}

/** Every pair count from the tracks' term ids, streamed out with COPY and counted in memory. */
async function countPairs(client: PoolClient): Promise<void> {
  const paired = new Set((await client.query<{ id: number }>(PAIRED_IDS_SQL)).rows.map((r) => r.id));
  // Keyed by lower id × 2^32 + higher id (term ids are int4).
  const counts = new Map<number, number>();
  let anyPaired = false;
  let rest = '';
  for await (const chunk of client.query(copyStreams.to(TERM_IDS_COPY_SQL)) as AsyncIterable<Buffer>) {
    // An int[] in COPY text is ASCII: {1,2,3}.
    const lines = (rest + chunk.toString('latin1')).split('\n');
    rest = lines.pop() as string;
    for (const line of lines) {
      const ids = line
        .slice(1, -1)
        .split(',')
        .map(Number)
        .filter((id) => paired.has(id));
      if (ids.length > 0) anyPaired = true;
      for (let i = 0; i < ids.length; i++) {
        for (let j = i + 1; j < ids.length; j++) {
          const [a, b] = [ids[i] as number, ids[j] as number];
          if (a === b) continue;
          const key = Math.min(a, b) * 2 ** 32 + Math.max(a, b);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    }
  }
  await client.query('DELETE FROM catalogue_term_pairs');
  if (!anyPaired) return;
  const rows: [number[], number[], number[]] = [[], [], []];
  for (const [key, n] of counts) {
    const a = Math.floor(key / 2 ** 32);
    const b = key % 2 ** 32;
    rows[0].push(a, b);
    rows[1].push(b, a);
    rows[2].push(n, n);
  }
  await client.query(ADD_PAIR_COUNTS_SQL, rows);
}

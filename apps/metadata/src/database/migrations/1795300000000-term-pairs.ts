import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PAIRED_IDS_SQL, RECOUNT_PAIRS_SQL } from '../../catalogue/term-pairs.js';

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
    const paired: { id: number }[] = await runner.query(PAIRED_IDS_SQL);
    await runner.query(RECOUNT_PAIRS_SQL, [paired.map((r) => r.id)]);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE catalogue_term_pairs');
  }
}

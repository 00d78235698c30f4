import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { PoolClient } from 'pg';
import { recountPairs } from '../../catalogue/pair-recount.js';

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
    await recountPairs((await runner.connect()) as PoolClient);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE catalogue_term_pairs');
  }
}

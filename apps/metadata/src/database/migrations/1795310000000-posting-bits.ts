import type { MigrationInterface, QueryRunner } from 'typeorm';
import { TRACK_BITS_FUNCTION_SQL } from '../../catalogue/term-bits.js';

/**
 * `track_postings.bits`: every posting carries its track's closed-vocabulary attributes packed into
 * one bigint (catalogue/term-bits.ts), in the walk index's INCLUDE list, so a walk checks such
 * filters on the walked index entry instead of probing the index once more per row. The postings are
 * rewritten from the tracks (as the integer-postings migration did): faster than an UPDATE of every
 * posting, and it leaves no dead rows.
 */
export class PostingBits1795310000000 implements MigrationInterface {
  name = 'PostingBits1795310000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(TRACK_BITS_FUNCTION_SQL);
    await runner.query(`
      CREATE TABLE track_postings_v3 (
        term_id integer NOT NULL,
        popularity smallint NOT NULL,
        doc integer NOT NULL,
        bpm smallint,
        year smallint NOT NULL,
        bits bigint NOT NULL
      ) WITH (fillfactor = 90)`);
    await runner.query(`
      INSERT INTO track_postings_v3 (term_id, popularity, doc, bpm, year, bits)
      SELECT u.term_id, t.popularity, t.doc, t.bpm, t.release_year, catalogue_track_bits(t.attributes, t.explicit)
      FROM tracks t CROSS JOIN unnest(t.term_ids) AS u(term_id)
      ORDER BY 1, 2, 3`);
    await runner.query('DROP TABLE track_postings');
    await runner.query('ALTER TABLE track_postings_v3 RENAME TO track_postings');
    await runner.query('CREATE UNIQUE INDEX track_postings_walk ON track_postings (term_id, popularity, doc) INCLUDE (bpm, year, bits)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX track_postings_walk');
    await runner.query('ALTER TABLE track_postings DROP COLUMN bits');
    await runner.query('CREATE UNIQUE INDEX track_postings_walk ON track_postings (term_id, popularity, doc) INCLUDE (bpm, year)');
    await runner.query('DROP FUNCTION catalogue_track_bits(jsonb, boolean)');
  }
}

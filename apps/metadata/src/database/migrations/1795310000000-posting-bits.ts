import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `track_postings.bits`: every posting carries its track's closed-vocabulary attributes packed into
 * one bigint (catalogue/term-bits.ts), in the walk index's INCLUDE list, so a walk checks such
 * filters on the walked index entry instead of probing the index once more per row. The postings are
 * rewritten from the tracks (as the integer-postings migration did): faster than an UPDATE of every
 * posting, and it leaves no dead rows.
 */
// The function as this migration created it, frozen: catalogue/term-bits.ts packs the same bits in
// Node, and the migration tests check that both agree.
const TRACK_BITS_FUNCTION_SQL = `
  CREATE OR REPLACE FUNCTION catalogue_track_bits(a jsonb, explicit boolean) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT bit_or(1::bigint << (0 + p - 1)) FROM jsonb_array_elements_text(coalesce(a->'genres', '[]')) v, array_position(ARRAY['pop','rock','hip-hop','electronic','jazz','classical','r&b','folk','metal','ambient','mandopop','j-pop','k-pop','latin','country','blues','soul','funk','reggae','punk','indie','house','techno','soundtrack','world','gospel','disco','lo-fi','city-pop','afrobeats']::text[], v) p WHERE p IS NOT NULL), 0)
      | coalesce((SELECT bit_or(1::bigint << (30 + p - 1)) FROM jsonb_array_elements_text(coalesce(a->'moods', '[]')) v, array_position(ARRAY['happy','romantic','uplifting','energetic','angry','confident','dark','euphoric','relaxed','melancholic','calm','dreamy','sad','nostalgic','playful','epic','tense','peaceful']::text[], v) p WHERE p IS NOT NULL), 0)
      | (coalesce(array_position(ARRAY['en','es','fr','de','it','pt','nl','sv','pl','ru','tr','ar','hi','zh','ja','ko','id','th','vi','yo','sw']::text[], a->>'language'), 0)::bigint << 48)
      | (coalesce(array_position(ARRAY['c','c#','d','d#','e','f','f#','g','g#','a','a#','b']::text[], a->>'key'), 0)::bigint << 53)
      | (coalesce(array_position(ARRAY['major','minor']::text[], a->>'mode'), 0)::bigint << 57)
      | (coalesce(array_position(ARRAY['male','female','mixed','instrumental','choir']::text[], a->>'vocal_type'), 0)::bigint << 59)
      | (CASE WHEN explicit THEN 1::bigint << 62 ELSE 0 END)
  $$`;

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

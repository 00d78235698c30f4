import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StatementRunner } from '../database/statement.runner.js';
import { TRACK_COLUMNS, toTrack, type TrackRow } from '../tracks/track.repository.js';
import type { Track } from '../tracks/track.js';
import type { BitCheck } from '../catalogue/term-bits.js';
import type { SearchPosition } from '../catalogue/search-cursor.js';
import type { TermCount, TermInfo } from '../catalogue/term-info.js';

/** Exact range conditions: BPM and year on the walked postings (every posting carries both), energy on the track row. */
export interface ExactChecks {
  minBpm?: number;
  maxBpm?: number;
  minYear?: number;
  maxYear?: number;
  minEnergy?: number;
  maxEnergy?: number;
}

/**
 * A term group with more alternatives than this is checked on the track row's `term_ids`, not probed
 * in the postings index: each alternative of a probe is one more index descent, and the row is
 * fetched for the page anyway.
 */
const MAX_PROBE_TERMS = 3;

/** Splits term groups that must all match into index probes and row checks (see MAX_PROBE_TERMS). */
export function probesAndChecks(groups: readonly number[][]): { probes: number[][]; termChecks: number[][] } {
  return { probes: groups.filter((g) => g.length <= MAX_PROBE_TERMS), termChecks: groups.filter((g) => g.length > MAX_PROBE_TERMS) };
}

export interface MatchSpec {
  /** Term ids walked in sort order (any of them); the smallest group of the query. */
  driver: number[];
  /** Groups of term ids of which each must match (any id of the group), probed in the postings index. */
  probes: number[][];
  /**
   * Groups of which each must match too, made of closed-vocabulary terms: checked on the walked
   * posting's `bits` (catalogue/term-bits.ts), or probed like `probes` where the walk has no bits.
   */
  bitGroups: BitGroup[];
  /** Groups of which each must match too, checked on the track row's `term_ids` (groups with many alternatives). */
  termChecks: number[][];
  /** Term ids that must not match (the exact-word tier already returned them). */
  exclude: number[];
  checks: ExactChecks;
}

/** A group of alternative terms, each with the check its bits make. */
export interface BitGroup {
  ids: number[];
  checks: BitCheck[];
}

export interface WalkResult {
  /** The page's tracks with their sort key and doc (the internal track number cursors carry). */
  tracks: { track: Track; key: number; doc: number }[];
  /** Set when the walk stopped at its budget before finding a full page: where to continue. */
  scanEnd?: SearchPosition;
}

class Sql {
  readonly params: unknown[] = [];
  p(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** Search SQL: index walks over the postings in sort order, probes, and sampled facet counts. */
@Injectable()
export class SearchRepository {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(StatementRunner) private readonly statements: StatementRunner,
  ) {}

  async terms(terms: readonly string[]): Promise<TermInfo[]> {
    if (terms.length === 0) return [];
    const rows: { id: number; term: string; track_count: string }[] = await this.db.query(
      'SELECT id, term, track_count FROM catalogue_terms WHERE term = ANY($1::text[])',
      [terms],
    );
    return rows.map(toTermInfo);
  }

  async termsById(ids: readonly number[]): Promise<TermInfo[]> {
    const rows: { id: number; term: string; track_count: string }[] = await this.db.query(
      'SELECT id, term, track_count FROM catalogue_terms WHERE id = ANY($1::int[])',
      [ids],
    );
    return rows.map(toTermInfo);
  }

  /** The most common dictionary terms starting with `prefix` (a full term prefix such as `w:mid`). */
  async termsWithPrefix(prefix: string, limit: number): Promise<TermInfo[]> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows: { id: number; term: string; track_count: string }[] = await this.db.query(
      'SELECT id, term, track_count FROM catalogue_terms WHERE term LIKE $1 AND track_count > 0 ORDER BY track_count DESC LIMIT $2',
      [pattern, limit],
    );
    return rows.map(toTermInfo);
  }

  /**
   * The paired terms that tracks with `termId` also have (catalogue/term-pairs.ts), each with the
   * number of tracks that have both.
   */
  async pairedWith(termId: number): Promise<TermCount[]> {
    const rows: { id: number; track_count: string }[] = await this.db.query(
      'SELECT term_b AS id, track_count FROM catalogue_term_pairs WHERE term_a = $1 AND track_count > 0',
      [termId],
    );
    return rows.map((row) => ({ id: row.id, trackCount: Number(row.track_count) }));
  }

  /** Text words spelled like `word` (trigram similarity on the dictionary). */
  async similarWords(word: string, limit: number): Promise<TermInfo[]> {
    const rows: { id: number; term: string; track_count: string }[] = await this.db.query(
      `SELECT id, term, track_count FROM catalogue_terms
       WHERE term LIKE 'w:%' AND substr(term, 3) % $1 AND track_count > 0 ORDER BY similarity(substr(term, 3), $1) DESC, track_count DESC LIMIT $2`,
      [word, limit],
    );
    return rows.map(toTermInfo);
  }

  /**
   * One page in (popularity desc, doc desc) order: walks at most `budget` postings of the driver terms from
   * the cursor, keeps those passing the range checks (on the posting itself), the probes and the row
   * checks, stops at `limit` rows. Its cost depends on the page size and the budget, never on how many
   * tracks match.
   */
  async walkByPopularity(
    spec: MatchSpec,
    limit: number,
    budget: number,
    after?: SearchPosition,
    signal?: AbortSignal,
  ): Promise<WalkResult> {
    const sql = new Sql();
    const w = sql.p(budget);
    const cursor = after ? ` AND (popularity, doc) < (${sql.p(after.key)}, ${sql.p(after.doc)})` : '';
    // The budget counts walked postings: the range checks apply after the LIMIT, or a rare BPM range
    // in a common genre would walk the genre's whole posting list.
    const branches = spec.driver.map(
      (termId) =>
        `(SELECT popularity, doc, bpm, year, bits FROM track_postings WHERE term_id = ${sql.p(termId)}${cursor} ORDER BY popularity DESC, doc DESC LIMIT ${w})`,
    );
    // DISTINCT ON: a track with two of the driver's terms (two words of one prefix) comes once. Its
    // input is the branches merged in order, so it needs no sort.
    const driver = `SELECT DISTINCT ON (popularity, doc) popularity AS key, doc, bpm, year, bits FROM (${branches.join(' UNION ALL ')}) u ORDER BY popularity DESC, doc DESC LIMIT ${w}`;
    const rows = await this.statements.query<PageRow>(
      this.page(sql, spec, driver, { order: 'key', popularity: 'd.key', limit, budget: w }),
      sql.params,
      signal,
    );
    return finish(rows, limit);
  }

  /** One page in (release date desc, doc desc) order: walks the tracks' date index, probing every term group. */
  async walkByReleaseDate(
    spec: MatchSpec,
    limit: number,
    budget: number,
    after?: SearchPosition,
    signal?: AbortSignal,
  ): Promise<WalkResult> {
    const sql = new Sql();
    const w = sql.p(budget);
    const cursor = after ? ` WHERE (release_date, doc) < (date '1970-01-01' + ${sql.p(after.key)}::int, ${sql.p(after.doc)})` : '';
    // `ord` is what the walk is ordered by: ordering the page by `key`, an expression of it, would make
    // PostgreSQL sort, which reads the whole budget before the first row.
    const driver = `SELECT release_date AS ord, (release_date - date '1970-01-01') AS key, doc, popularity, bpm, release_year AS year FROM tracks${cursor} ORDER BY release_date DESC, doc DESC LIMIT ${w}`;
    // No driver here: the driver group is probed (or checked on the row) like the others.
    // The tracks' date index has no bits: the bit groups are probed too.
    const groups = [...(spec.driver.length ? [spec.driver] : []), ...spec.probes, ...spec.bitGroups.map((g) => g.ids)];
    const split = probesAndChecks(groups);
    const all: MatchSpec = {
      ...spec,
      driver: [],
      probes: split.probes,
      bitGroups: [],
      termChecks: [...spec.termChecks, ...split.termChecks],
    };
    const rows = await this.statements.query<PageRow>(
      this.page(sql, all, driver, { order: 'ord', popularity: 'd.popularity', limit, budget: w }),
      sql.params,
      signal,
    );
    return finish(rows, limit);
  }

  /**
   * Facet counts over the matches among the driver's postings, restricted to a uniform sample when
   * `sample` is given: docs are scrambled sequence numbers, so a doc range is a random subset. Returns
   * how many driver postings were considered, and per facet term id the matching count among them.
   * The term ids are unnested in the select list, which streams them; `unnest` in FROM would store
   * each track's ids in a tuple store first.
   */
  async facetCounts(
    spec: MatchSpec,
    facetTermIds: readonly number[],
    sample?: { from: number; to: number },
    signal?: AbortSignal,
  ): Promise<{ considered: number; counts: Map<number, number> }> {
    const sql = new Sql();
    const range = sample ? ` AND doc BETWEEN ${sql.p(sample.from)} AND ${sql.p(sample.to)}` : '';
    const ranges = [this.rangeChecks(sql, spec, 'bpm', 'year'), this.bitChecks(sql, spec, 'bits')].filter(Boolean).join(' AND ');
    const driver = `SELECT DISTINCT popularity, doc FROM track_postings WHERE term_id = ANY(${sql.p(spec.driver)}::int[])${range}${ranges ? ` AND ${ranges}` : ''}`;
    const probes = this.probes(sql, spec, 'd.popularity', 'd.doc');
    const checks = this.rowChecks(sql, spec);
    const rows = await this.statements.query<{ term_id: number | null; count: number }>(
      `WITH d AS MATERIALIZED (${driver}),
       p AS (SELECT d.doc FROM d ${probes ? `WHERE ${probes}` : ''} OFFSET 0),
       m AS (SELECT unnest(t.term_ids) AS term_id FROM p JOIN tracks t ON t.doc = p.doc ${checks ? `WHERE ${checks}` : ''})
       SELECT NULL::int AS term_id, (SELECT count(*) FROM d)::int AS count
       UNION ALL
       SELECT m.term_id, count(*)::int FROM m WHERE m.term_id = ANY(${sql.p(facetTermIds)}::int[]) GROUP BY m.term_id`,
      sql.params,
      signal,
    );
    const counts = new Map<number, number>();
    let considered = 0;
    for (const row of rows) {
      if (row.term_id === null) considered = row.count;
      else counts.set(row.term_id, row.count);
    }
    return { considered, counts };
  }

  /**
   * One page: the driver's rows that pass the range checks and the probes (evaluated before the join,
   * on the index only), joined to their tracks for the row checks. The `OFFSET 0`s are planner fences:
   * the one around the probes keeps them below the join, the one inside each EXISTS keeps it a per-row
   * index probe; pulled up into a semi join the planner would hash a probe term's whole posting list
   * (all of "pop"). The inner ORDER BYs (already the driver's order, so free) let the planner see that
   * the join output is sorted; without them it sorts, which reads the whole budget instead of stopping
   * after one page.
   *
   * The budget-th walked row comes back too, flagged `last`, whether it matches or not: when the page
   * is short, it is where the walk stopped and the next page starts. It comes after every match (the
   * walk is in page order), so a full page never reaches it, and a short page needs no second walk.
   */
  private page(
    sql: Sql,
    spec: MatchSpec,
    driver: string,
    walk: { order: 'key' | 'ord'; popularity: string; limit: number; budget: string },
  ): string {
    // Every driver yields the walked track's bpm and year, a postings walk its bits too (a date walk
    // has no bit groups left): checked before any probe.
    const filters = [
      this.rangeChecks(sql, spec, 'd.bpm', 'd.year'),
      this.bitChecks(sql, spec, 'd.bits'),
      this.probes(sql, spec, walk.popularity, 'd.doc'),
    ]
      .filter(Boolean)
      .join(' AND ');
    const checks = this.rowChecks(sql, spec);
    const by = `d.${walk.order} DESC, d.doc DESC`;
    const numbered = `SELECT d.*, row_number() OVER (ORDER BY ${by}) = ${walk.budget} AS last FROM (${driver}) d`;
    const probed = `SELECT d.*, ${filters || 'true'} AS ok FROM (${numbered}) d ORDER BY ${by} OFFSET 0`;
    return `SELECT ${TRACK_COLUMNS}, d.key AS sort_key, d.doc, d.last, ${checks ? `d.ok AND ${checks}` : 'd.ok'} AS matched
      FROM (SELECT * FROM (${probed}) d WHERE d.ok OR d.last ORDER BY ${by} OFFSET 0) d
      JOIN tracks t ON t.doc = d.doc ${checks ? `WHERE (d.ok AND ${checks}) OR d.last` : ''}
      ORDER BY ${by} LIMIT ${sql.p(walk.limit)}`;
  }

  private probes(sql: Sql, spec: MatchSpec, popularity: string, doc: string): string {
    // One term is compared with `=`: `= ANY` of a one-element array costs each probe 10–15 % more.
    const posting = (ids: number[]) =>
      `EXISTS (SELECT 1 FROM track_postings q WHERE q.term_id ${ids.length === 1 ? `= ${sql.p(ids[0])}` : `= ANY(${sql.p(ids)}::int[])`} AND q.popularity = ${popularity} AND q.doc = ${doc} OFFSET 0)`;
    const parts = spec.probes.map((group) => posting(group));
    if (spec.exclude.length) parts.push(`NOT ${posting(spec.exclude)}`);
    return parts.join(' AND ');
  }

  /** BPM and year ranges, on the columns every posting (and the track row) carries. */
  private rangeChecks(sql: Sql, spec: MatchSpec, bpm: string, year: string): string {
    const c = spec.checks;
    const parts: string[] = [];
    if (c.minBpm !== undefined) parts.push(`${bpm} >= ${sql.p(c.minBpm)}`);
    if (c.maxBpm !== undefined) parts.push(`${bpm} <= ${sql.p(c.maxBpm)}`);
    if (c.minYear !== undefined) parts.push(`${year} >= ${sql.p(c.minYear)}`);
    if (c.maxYear !== undefined) parts.push(`${year} <= ${sql.p(c.maxYear)}`);
    return parts.join(' AND ');
  }

  /** The bit groups, on a posting's `bits`: each group matches when any of its checks does. */
  private bitChecks(sql: Sql, spec: MatchSpec, bits: string): string {
    return spec.bitGroups
      .map(
        (group) =>
          `(${group.checks.map((c) => `(${bits} & ${sql.p(c.mask.toString())}::int8) = ${sql.p(c.value.toString())}::int8`).join(' OR ')})`,
      )
      .join(' AND ');
  }

  /** What only the track row can tell: many-term groups and energy. */
  private rowChecks(sql: Sql, spec: MatchSpec): string {
    const c = spec.checks;
    const parts = spec.termChecks.map((group) => `t.term_ids && ${sql.p(group)}::int[]`);
    if (c.minEnergy !== undefined) parts.push(`(t.attributes->>'energy')::float8 >= ${sql.p(c.minEnergy)}`);
    if (c.maxEnergy !== undefined) parts.push(`(t.attributes->>'energy')::float8 <= ${sql.p(c.maxEnergy)}`);
    return parts.join(' AND ');
  }
}

type PageRow = TrackRow & { sort_key: number; doc: number; last: boolean; matched: boolean };

/** The page's matches, and where the walk stopped when it ran out of budget before filling the page. */
function finish(rows: PageRow[], limit: number): WalkResult {
  const matches = rows.filter((row) => row.matched);
  const tracks = matches.map((row) => ({ track: toTrack(row), key: row.sort_key, doc: row.doc }));
  const last = rows.find((row) => row.last);
  // A short page: either the driver ran out (no budget-th row: the last page) or the budget did.
  return tracks.length < limit && last ? { tracks, scanEnd: { key: last.sort_key, doc: last.doc } } : { tracks };
}

function toTermInfo(row: { id: number; term: string; track_count: string }): TermInfo {
  return { id: row.id, term: row.term, trackCount: Number(row.track_count) };
}

/**
 * Term pairs: for every two terms of the closed vocabularies (genre, mood, language, BPM bucket, key,
 * mode, vocal type, explicit, decade), how many tracks have both. Kept in `catalogue_term_pairs`, in
 * both orders, by every write path. Search reads them to answer a filter on one such term with exact
 * facet counts, and to know at once that two filters never meet (no walk, no partial empty page).
 * Words, tags and `*` are left out: their vocabularies are open, so their pairs would be unbounded.
 */
const PAIRED_KINDS = 'gmlbkovey';
const PAIRED_TERM_REGEX = `^[${PAIRED_KINDS}]:`;
/** The ids of every paired term. */
export const PAIRED_IDS_SQL = `SELECT id FROM catalogue_terms WHERE term ~ '${PAIRED_TERM_REGEX}'`;
/** The ids of paired terms among the term ids `$1`. */
export const PAIRED_AMONG_SQL = `SELECT id FROM catalogue_terms WHERE id = ANY($1::int[]) AND term ~ '${PAIRED_TERM_REGEX}'`;

export function isPairedTerm(term: string): boolean {
  return term.charCodeAt(1) === 58 /* : */ && PAIRED_KINDS.includes(term.charAt(0));
}

/** Adds pair counts to what is stored (creating pairs it lacks): `term_a`, `term_b`, `delta` arrays. */
export const ADD_PAIR_COUNTS_SQL = `
  INSERT INTO catalogue_term_pairs (term_a, term_b, track_count)
  SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[]) ORDER BY 1, 2
  ON CONFLICT (term_a, term_b) DO UPDATE SET track_count = catalogue_term_pairs.track_count + EXCLUDED.track_count`;

/** Pair counts of tracks counted in memory: each track's paired term ids, added or removed. */
export class PairCounter {
  /** Dense number of each paired term id seen, for the count matrix. */
  private readonly dense = new Map<number, number>();
  private readonly ids: number[] = [];
  private size = 64;
  private counts = new Float64Array(this.size * this.size);

  /** Counts every two distinct ids of one track's `pairedIds` (+delta each; both orders are written by `rows`). */
  add(pairedIds: readonly number[], delta = 1): void {
    const d = pairedIds.map((id) => this.denseId(id));
    const size = this.size;
    for (let i = 0; i < d.length; i++) {
      for (let j = i + 1; j < d.length; j++) {
        const a = d[i] as number;
        const b = d[j] as number;
        if (a !== b) this.counts[a < b ? a * size + b : b * size + a] += delta;
      }
    }
  }

  merge(other: PairCounter): void {
    for (const [a, b, n] of other.pairs()) this.addPair(a, b, n);
  }

  /** The non-zero counts in both orders, as the arrays ADD_PAIR_COUNTS_SQL takes. */
  rows(): [number[], number[], number[]] {
    const a: number[] = [];
    const b: number[] = [];
    const n: number[] = [];
    for (const [x, y, count] of this.pairs()) {
      a.push(x, y);
      b.push(y, x);
      n.push(count, count);
    }
    return [a, b, n];
  }

  get empty(): boolean {
    return this.ids.length === 0;
  }

  /** Each counted unordered pair once: [lower-numbered id, other id, count]. */
  private *pairs(): Generator<[number, number, number]> {
    const size = this.size;
    for (let i = 0; i < this.ids.length; i++) {
      for (let j = i + 1; j < this.ids.length; j++) {
        const count = this.counts[i * size + j] as number;
        if (count !== 0) yield [this.ids[i] as number, this.ids[j] as number, count];
      }
    }
  }

  private addPair(x: number, y: number, n: number): void {
    const a = this.denseId(x);
    const b = this.denseId(y);
    this.counts[a < b ? a * this.size + b : b * this.size + a] += n;
  }

  private denseId(id: number): number {
    let n = this.dense.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.dense.set(id, n);
      this.ids.push(id);
      if (n >= this.size) this.grow();
    }
    return n;
  }

  private grow(): void {
    const old = this.counts;
    const oldSize = this.size;
    this.size *= 2;
    this.counts = new Float64Array(this.size * this.size);
    for (let i = 0; i < oldSize; i++) this.counts.set(old.subarray(i * oldSize, (i + 1) * oldSize), i * this.size);
  }
}

import { describe, expect, it } from 'vitest';
import { TermCache } from '../cache/term-cache.js';
import { termBitCheck } from '../catalogue/term-bits.js';
import { searchTracksSchema } from '../tracks/track.schemas.js';
import type { TermCount, TermInfo } from '../catalogue/term-info.js';
import type { MatchSpec, SearchRepository, WalkResult } from './search.repository.js';
import { FacetCounter } from './facet.counter.js';
import { SearchQueryPlanner } from './search-query.planner.js';
import { SCAN_BUDGET, SearchService } from './search.service.js';
import { TermDictionary } from './term.dictionary.js';
import { SearchCursorCodec } from '../catalogue/search-cursor.js';
import type { Track } from '../tracks/track.js';

/** A dictionary, its pair counts and a recording walk: the repository as the service sees it. */
class FakeSearchRepository {
  readonly walks: MatchSpec[] = [];
  readonly budgets: number[] = [];
  /** What the next walks return; by default an empty, complete walk. */
  walkResults: WalkResult[] = [];
  readonly facetTermIds: number[][] = [];
  readonly dictionary: TermInfo[] = [
    { id: 1, term: '*', trackCount: 10_000 },
    { id: 2, term: 'g:metal', trackCount: 3_000 },
    { id: 3, term: 'm:calm', trackCount: 2_500 },
    { id: 4, term: 'm:angry', trackCount: 2_000 },
    { id: 5, term: 't:live', trackCount: 900 },
    { id: 6, term: 'l:de', trackCount: 1_000 },
    { id: 7, term: 't:rare', trackCount: 100 },
  ];
  /** Tracks with both terms, stored in both orders as catalogue_term_pairs holds them. */
  readonly pairs = new Map<number, Map<number, number>>([
    [
      2,
      new Map([
        [4, 1_800],
        [6, 50],
      ]),
    ],
    [
      4,
      new Map([
        [2, 1_800],
        [6, 800],
      ]),
    ],
    [
      6,
      new Map([
        [2, 50],
        [4, 800],
      ]),
    ],
  ]);

  async terms(terms: readonly string[]): Promise<TermInfo[]> {
    return this.dictionary.filter((t) => terms.includes(t.term));
  }

  async termsById(ids: readonly number[]): Promise<TermInfo[]> {
    return this.dictionary.filter((t) => ids.includes(t.id));
  }

  async termsWithPrefix(prefix: string): Promise<TermInfo[]> {
    return this.dictionary.filter((t) => t.term.startsWith(prefix));
  }

  async pairedWith(termId: number): Promise<TermCount[]> {
    return [...(this.pairs.get(termId) ?? [])].map(([id, trackCount]) => ({ id, trackCount }));
  }

  async walkByPopularity(spec: MatchSpec, _limit: number, budget: number): Promise<WalkResult> {
    this.walks.push(spec);
    this.budgets.push(budget);
    return this.walkResults.shift() ?? { tracks: [] };
  }

  async facetCounts(_spec: MatchSpec, facetTermIds: readonly number[]): Promise<{ considered: number; counts: Map<number, number> }> {
    this.facetTermIds.push([...facetTermIds]);
    return {
      considered: 500,
      counts: new Map([
        [5, 100],
        [6, 100],
      ]),
    };
  }
}

function setUp() {
  const repository = new FakeSearchRepository();
  const dictionary = new TermCache();
  dictionary.setEnabled(true);
  const cursors = new SearchCursorCodec('a test key of at least thirty-two characters');
  const fake = repository as unknown as SearchRepository;
  const terms = new TermDictionary(fake, dictionary);
  const service = new SearchService(fake, new SearchQueryPlanner(terms), new FacetCounter(fake, terms), cursors);
  const search = (input: Record<string, unknown>) =>
    service.search(
      searchTracksSchema.parse({
        query: '',
        genre: '',
        mood: '',
        language: '',
        genres: [],
        moods: [],
        tags: [],
        key: '',
        mode: '',
        vocalType: '',
        sort: '',
        facets: [],
        limit: 20,
        cursor: '',
        ...input,
      }),
    );
  return { repository, search, cursors };
}

describe('SearchService and the maintained term pairs', () => {
  it('answers two filters that no track has together at once: empty, complete, without a walk', async () => {
    const { repository, search } = setUp();
    const page = await search({ genre: 'metal', mood: 'calm' });
    expect(page).toMatchObject({ tracks: [], nextCursor: '', partial: false });
    expect(repository.walks).toHaveLength(0);

    // Filters that do meet are walked, driven by the rarer one, the other checked on the walked bits.
    await search({ genre: 'metal', mood: 'angry' });
    expect(repository.walks).toEqual([
      expect.objectContaining({ driver: [4], probes: [], bitGroups: [{ ids: [2], checks: [termBitCheck('g:metal')] }] }),
    ]);
  });

  it('checks closed-vocabulary filters on the walked postings bits and probes tags', async () => {
    const { repository, search } = setUp();
    // The rarest tag drives; the other tag is probed; the genre and language are bit checks.
    await search({ genre: 'metal', language: 'de', tags: ['live', 'rare'] });
    expect(repository.walks).toEqual([
      expect.objectContaining({
        driver: [7],
        probes: [[5]],
        bitGroups: [
          { ids: [6], checks: [termBitCheck('l:de')] },
          { ids: [2], checks: [termBitCheck('g:metal')] },
        ],
      }),
    ]);
  });

  it('does not take an unpaired term (a tag) for one that never meets the others', async () => {
    const { repository, search } = setUp();
    await search({ genre: 'metal', tags: ['live'] });
    expect(repository.walks).toHaveLength(1);
  });

  it('counts the facets of one paired filter from its pairs, exactly; tags from a sample', async () => {
    const { repository, search } = setUp();
    const page = await search({ genre: 'metal', facets: ['mood', 'genre', 'tag'], limit: 1 });
    expect(page.facets).toEqual([
      { name: 'mood', values: [{ value: 'angry', count: 1_800 }], exact: true, errorMargin: 0 },
      { name: 'genre', values: [{ value: 'metal', count: 3_000 }], exact: true, errorMargin: 0 },
      // 100 of a 500-track sample of metal's 3 000: scaled, with its margin.
      { name: 'tag', values: [{ value: 'live', count: 600 }], exact: false, errorMargin: expect.any(Number) },
    ]);
    // Only the tag facet's terms went to the sampled count.
    expect(repository.facetTermIds).toEqual([[5, 7]]);

    // With a second filter the pairs no longer give the counts: every facet is sampled.
    await search({ genre: 'metal', mood: 'angry', facets: ['mood'], limit: 1 });
    expect(repository.facetTermIds.at(-1)).toEqual([3, 4]);
  });

  it('caps a sampled estimate at what the pair counts allow', async () => {
    const { search } = setUp();
    // 100 of a 500-track sample of angry's 2 000 would be 400 German tracks, but only 50 metal
    // tracks are German, and every match is metal.
    const page = await search({ genre: 'metal', mood: 'angry', facets: ['language', 'tag'], limit: 1 });
    expect(page.facets).toEqual([
      expect.objectContaining({ name: 'language', values: [{ value: 'de', count: 50 }], exact: false }),
      // Tags are not paired: the estimate stands.
      expect.objectContaining({ name: 'tag', values: [{ value: 'live', count: 400 }], exact: false }),
    ]);
  });
});

describe('SearchService scan budget', () => {
  const ranOut = (key: number): WalkResult => ({ tracks: [], scanEnd: { key, doc: 1 } });
  const found = (count: number): WalkResult => ({
    tracks: Array.from({ length: count }, (_, i) => ({ track: { id: `t${i}` } as Track, key: 50, doc: 100 - i })),
  });

  it('doubles the budget of each page in a run of partial pages, up to 8 times, and starts again after a full page', async () => {
    const { repository, search, cursors } = setUp();
    repository.walkResults = [ranOut(90), ranOut(80), ranOut(70), ranOut(60), ranOut(55), ranOut(52), found(21), ranOut(40)];
    let cursor = '';
    const streaks: (number | undefined)[] = [];
    for (let i = 0; i < 8; i++) {
      const page = await search({ genre: 'metal', mood: 'angry', limit: 20, cursor });
      expect(page.partial, `page ${i + 1}`).toBe(i !== 6);
      cursor = page.nextCursor;
      streaks.push(cursors.decode(cursor, { route: 'search' }).partialStreak);
    }
    expect(repository.budgets).toEqual([1, 2, 4, 8, 8, 8, 8, 1].map((times) => times * SCAN_BUDGET));
    expect(streaks).toEqual([1, 2, 3, 3, 3, 3, undefined, 1]);
  });

  it('refuses a cursor whose run of partial pages was raised by the client', async () => {
    const { repository, search, cursors } = setUp();
    repository.walkResults = [ranOut(90)];
    const issued = (await search({ genre: 'metal', mood: 'angry', limit: 20 })).nextCursor;
    const [payload, mac] = issued.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), s: 3 })).toString(
      'base64url',
    );
    await expect(search({ genre: 'metal', mood: 'angry', limit: 20, cursor: `${raised}.${mac}` })).rejects.toMatchObject({
      reason: 'INVALID_CURSOR',
    });
    expect(repository.budgets).toEqual([SCAN_BUDGET]);
    expect(cursors.decode(issued, { route: 'search' }).partialStreak).toBe(1);
  });
});

import { Inject, Injectable } from '@nestjs/common';
import { BPM_BUCKET, RANGES, YEAR_BUCKET } from '../catalogue/attribute-vocabulary.js';
import { termBitCheck, type BitCheck } from '../catalogue/term-bits.js';
import type { TermInfo } from '../catalogue/term-info.js';
import { isPairedTerm } from '../catalogue/term-pairs.js';
import { ALL_TRACKS_TERM, bpmBucket, decadeTerm, tokenize } from '../catalogue/track-terms.js';
import type { SearchTracksInput } from '../tracks/track.schemas.js';
import { probesAndChecks, type ExactChecks, type MatchSpec } from './search.repository.js';
import { TermDictionary } from './term.dictionary.js';

const PREFIX_EXPANSIONS = 16;
const FUZZY_EXPANSIONS = 4;
const MAX_WORDS = 8;
/** A BPM or year range spanning more buckets (decades) than this is only checked, never walked by bucket. */
const MAX_RANGE_TERMS = 12;

/** A query compiled to term groups: each group is a set of alternative terms, every group must match. */
export interface CompiledQuery {
  /** Tier 0: every text word matched exactly. */
  exact?: MatchSpec;
  /** Tier 1 (or the only tier): prefix and fuzzy matches of the words, minus tier 0's. */
  broad?: MatchSpec;
  /** Every match, whatever its tier: what facets count. */
  all?: MatchSpec;
  /** The query's one term, when it is a paired term and the query has nothing else: facets count from its pairs. */
  only?: TermInfo;
  /** The filters that are one paired term each: every match has all of them, which bounds sampled facet counts. */
  pairedFilters?: TermInfo[];
}

/**
 * Turns a search request into term groups and chooses how each tier is walked: the group with the
 * fewest tracks (maintained counts) drives, closed-vocabulary groups are checked on the posting's
 * bits, the rest are probed. An empty plan means nothing can match.
 */
@Injectable()
export class SearchQueryPlanner {
  constructor(@Inject(TermDictionary) private readonly dictionary: TermDictionary) {}

  async plan(input: SearchTracksInput, relevance: boolean): Promise<CompiledQuery> {
    const groups: string[][] = [];
    const add = (terms: string[]) => groups.push(terms);
    for (const g of new Set([input.genre, ...input.genres].filter(Boolean))) add([`g:${g}`]);
    for (const m of new Set([input.mood, ...input.moods].filter(Boolean))) add([`m:${m}`]);
    for (const t of new Set(input.tags)) add([`t:${t}`]);
    if (input.language) add([`l:${input.language}`]);
    if (input.key) add([`k:${input.key}`]);
    if (input.mode) add([`o:${input.mode}`]);
    if (input.vocalType) add([`v:${input.vocalType}`]);
    if (input.explicit !== undefined) add([`e:${input.explicit ? 1 : 0}`]);
    const checks: ExactChecks = {
      minBpm: input.minBpm,
      maxBpm: input.maxBpm,
      minYear: input.minYear,
      maxYear: input.maxYear,
      minEnergy: input.minEnergy,
      maxEnergy: input.maxEnergy,
    };
    // The BPM buckets and year decades of a range: worth walking when they are the rarest group;
    // otherwise the exact check on each walked posting already decides, so they are not probed.
    const rangeGroups = new Set<number>();
    const addRange = (min: number, max: number, width: number, term: (value: number) => string): void => {
      const lo = Math.floor(min / width);
      const hi = Math.floor(max / width);
      if (hi - lo >= MAX_RANGE_TERMS) return;
      rangeGroups.add(groups.length);
      add(Array.from({ length: hi - lo + 1 }, (_, i) => term((lo + i) * width)));
    };
    if (input.minBpm !== undefined || input.maxBpm !== undefined)
      addRange(input.minBpm ?? RANGES.bpm.min, input.maxBpm ?? RANGES.bpm.max, BPM_BUCKET, bpmBucket);
    if (input.minYear !== undefined || input.maxYear !== undefined)
      addRange(input.minYear ?? RANGES.year.min, input.maxYear ?? RANGES.year.max, YEAR_BUCKET, decadeTerm);

    const tokens = tokenize(input.query).slice(0, MAX_WORDS);
    // Text with nothing searchable in it (only punctuation, e.g. "%") matches no track.
    if (tokens.length === 0 && input.query.trim() !== '') return {};
    const wordTerms = tokens.map((t) => `w:${t.value}`);
    const known = new Map((await this.dictionary.terms([...groups.flat(), ...wordTerms, ALL_TRACKS_TERM])).map((t) => [t.term, t]));
    const resolve = (terms: string[]): TermInfo[] => terms.flatMap((t) => known.get(t) ?? []).filter((t) => t.trackCount > 0);

    const filterGroups = groups.map(resolve);
    // A filter value no track has, or two that no track has together: nothing can match.
    if (filterGroups.some((g) => g.length === 0) || (await this.neverTogether(filterGroups))) return {};

    const exactWords: TermInfo[][] = [];
    const broadWords: TermInfo[][] = [];
    let allExact = true;
    let lastExact: TermInfo | undefined;
    for (const [i, token] of tokens.entries()) {
      const exact = known.get(`w:${token.value}`);
      const usable = exact && exact.trackCount > 0 ? exact : undefined;
      const isLast = i === tokens.length - 1;
      let broad: TermInfo[] = usable ? [usable] : [];
      if (isLast && !token.cjk) broad = mergeTerms(broad, await this.dictionary.termsWithPrefix(`w:${token.value}`, PREFIX_EXPANSIONS));
      if (broad.length === 0 && !token.cjk && token.value.length >= 3)
        broad = [...(await this.dictionary.similarWords(token.value, FUZZY_EXPANSIONS))];
      if (broad.length === 0) return {};
      if (!usable) allExact = false;
      if (isLast) lastExact = usable;
      exactWords.push(usable ? [usable] : []);
      broadWords.push(broad);
    }

    // The filters that are one paired term each: every match has all of them (bounds sampled facets).
    const pairedFilters = filterGroups.flatMap((g) => (g.length === 1 && g[0] && isPairedTerm(g[0].term) ? [g[0]] : []));
    const all = known.get(ALL_TRACKS_TERM);
    const spec = (wordGroups: TermInfo[][], exclude: number[]): MatchSpec | undefined => {
      const allGroups = [...filterGroups, ...wordGroups];
      if (allGroups.length === 0) return all ? { driver: [all.id], probes: [], bitGroups: [], termChecks: [], exclude, checks } : undefined;
      const sized = allGroups.map((g, i) => ({
        ids: g.map((t) => t.id),
        size: g.reduce((n, t) => n + t.trackCount, 0),
        range: rangeGroups.has(i),
        bits: bitChecksOf(g),
      }));
      // The smallest group drives; the next smallest probe goes first (it fails the most rows).
      sized.sort((a, b) => a.size - b.size);
      const [driver, ...rest] = sized;
      // Closed-vocabulary groups are checked on the walked posting's bits, no index probe per row;
      // tags and words are probed.
      const others = rest.filter((g) => !g.range);
      const bitGroups = others.flatMap((g) => (g.bits ? [{ ids: g.ids, checks: g.bits }] : []));
      const { probes, termChecks } = probesAndChecks(others.filter((g) => !g.bits).map((g) => g.ids));
      return { driver: driver?.ids ?? [], probes, bitGroups, termChecks, exclude, checks };
    };
    const everything = spec(broadWords, []);
    const single = filterGroups.length === 1 && filterGroups[0]?.length === 1 ? filterGroups[0][0] : undefined;
    const only =
      tokens.length === 0 && single && isPairedTerm(single.term) && Object.values(checks).every((v) => v === undefined)
        ? single
        : undefined;
    if (tokens.length === 0 || !relevance) return { broad: everything, all: everything, only, pairedFilters };
    const lastBroad = broadWords.at(-1) ?? [];
    if (!allExact || !lastExact) return { broad: everything, all: everything, pairedFilters };
    // Tier 1: the last word's prefix/fuzzy expansions, minus the tracks tier 0 already returned.
    const expansions = lastBroad.filter((t) => t.id !== lastExact.id);
    return {
      exact: spec(exactWords, []),
      broad: expansions.length ? spec([...broadWords.slice(0, -1), expansions], [lastExact.id]) : undefined,
      all: everything,
      pairedFilters,
    };
  }

  /**
   * Whether two of the groups, each made of paired terms only, have no track in common: then no track
   * can match, and the maintained pair counts say so without a walk (which would spend its whole scan
   * budget and return an empty partial page). A BPM range's group is its buckets, a superset of the
   * range, so no pair there means no match in the range either.
   */
  private async neverTogether(groups: readonly TermInfo[][]): Promise<boolean> {
    const paired = groups.filter((g) => g.every((t) => isPairedTerm(t.term)));
    for (let i = 0; i + 1 < paired.length; i++) {
      for (const other of paired.slice(i + 1)) {
        let together = false;
        for (const a of paired[i] as TermInfo[]) {
          const pairs = await this.dictionary.pairedWith(a.id);
          if (other.some((b) => b.id === a.id || pairs.some((p) => p.id === b.id))) together = true;
        }
        if (!together) return true;
      }
    }
    return false;
  }
}

/** The bit checks of a group whose every term has bits (catalogue/term-bits.ts), else undefined. */
function bitChecksOf(group: readonly TermInfo[]): BitCheck[] | undefined {
  const checks = group.map((t) => termBitCheck(t.term));
  return group.length > 0 && checks.every((c) => c !== undefined) ? checks : undefined;
}

function mergeTerms(a: TermInfo[], b: TermInfo[]): TermInfo[] {
  const ids = new Set(a.map((t) => t.id));
  return [...a, ...b.filter((t) => !ids.has(t.id))];
}

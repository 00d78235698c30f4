import { Inject, Injectable } from '@nestjs/common';
import { BPM_BUCKET } from '../catalogue/attribute-vocabulary.js';
import type { TermInfo } from '../catalogue/term-info.js';
import { isPairedTerm } from '../catalogue/term-pairs.js';
import { ALL_TRACKS_TERM } from '../catalogue/track-terms.js';
import type { FacetName } from '../tracks/track.schemas.js';
import type { CompiledQuery } from './search-query.planner.js';
import { SearchRepository, type MatchSpec } from './search.repository.js';
import { TermDictionary } from './term.dictionary.js';

/** Driver postings sampled for filtered facet counts; below this many matches counts are exact. */
export const FACET_SAMPLE = 500;

const FACET_PREFIX: Record<FacetName, string> = {
  genre: 'g:',
  mood: 'm:',
  language: 'l:',
  bpm: 'b:',
  tag: 't:',
  key: 'k:',
  mode: 'o:',
  vocal_type: 'v:',
};

export interface FacetResult {
  name: FacetName;
  values: { value: string; count: number }[];
  exact: boolean;
  errorMargin: number;
}

@Injectable()
export class FacetCounter {
  constructor(
    @Inject(SearchRepository) private readonly repository: SearchRepository,
    @Inject(TermDictionary) private readonly dictionary: TermDictionary,
  ) {}

  /**
   * Facet counts. Without filters: the maintained per-term counts (exact). With one paired term
   * alone: its maintained pair counts (exact; tags, an open vocabulary, are not paired and are
   * counted as below). Otherwise exact when the driving term group has at most FACET_SAMPLE tracks,
   * else estimated from a uniform sample of about FACET_SAMPLE of its tracks, with the 95 % error
   * margin of the largest count.
   */
  async count(compiled: CompiledQuery, names: readonly FacetName[], signal?: AbortSignal): Promise<FacetResult[]> {
    const spec = compiled.all;
    const byFacet = await this.facetTermList();
    if (!spec) return names.map((name) => ({ name, values: [], exact: true, errorMargin: 0 }));
    const paired = new Map<FacetName, FacetResult>();
    const only = compiled.only;
    if (only) {
      const pairs = new Map((await this.dictionary.pairedWith(only.id)).map((t) => [t.id, t.trackCount]));
      for (const name of names) {
        if (name === 'tag') continue;
        const values = (byFacet.get(name) ?? []).map((t) => ({
          value: facetValue(name, t.term),
          count: t.id === only.id ? only.trackCount : (pairs.get(t.id) ?? 0),
        }));
        paired.set(name, { name, values: sortValues(values), exact: true, errorMargin: 0 });
      }
    }
    const rest = names.filter((name) => !paired.has(name));
    const counted = new Map(
      (rest.length ? await this.countedFacets(spec, rest, byFacet, await this.pairBounds(compiled.pairedFilters ?? []), signal) : []).map(
        (f) => [f.name, f],
      ),
    );
    return names.map((name) => (paired.get(name) ?? counted.get(name)) as FacetResult);
  }

  /**
   * The most tracks a match can share with each paired term, given filters that each match has:
   * the fewest any one filter shares with it (its pair count, or its own count for itself).
   * Undefined without such filters.
   */
  private async pairBounds(filters: readonly TermInfo[]): Promise<((termId: number) => number) | undefined> {
    if (filters.length === 0) return undefined;
    const shared = await Promise.all(
      filters.map(async (f) => ({ filter: f, pairs: new Map((await this.dictionary.pairedWith(f.id)).map((p) => [p.id, p.trackCount])) })),
    );
    return (termId) =>
      Math.min(...shared.map(({ filter, pairs }) => (filter.id === termId ? filter.trackCount : (pairs.get(termId) ?? 0))));
  }

  /** Facet counts over the matches of `spec`: see `count`. */
  private async countedFacets(
    spec: MatchSpec,
    names: readonly FacetName[],
    byFacet: Map<FacetName, TermInfo[]>,
    bound?: (termId: number) => number,
    signal?: AbortSignal,
  ): Promise<FacetResult[]> {
    const all = await this.dictionary.terms([ALL_TRACKS_TERM]);
    const unfiltered =
      spec.probes.length === 0 &&
      spec.bitGroups.length === 0 &&
      spec.termChecks.length === 0 &&
      spec.exclude.length === 0 &&
      Object.values(spec.checks).every((v) => v === undefined) &&
      spec.driver.length === 1 &&
      spec.driver[0] === all[0]?.id;
    if (unfiltered) {
      const fresh = new Map(
        (await this.dictionary.terms(names.flatMap((n) => (byFacet.get(n) ?? []).map((t) => t.term)))).map((t) => [t.term, t.trackCount]),
      );
      return names.map((name) => ({
        name,
        values: sortValues((byFacet.get(name) ?? []).map((t) => ({ value: facetValue(name, t.term), count: fresh.get(t.term) ?? 0 }))),
        exact: true,
        errorMargin: 0,
      }));
    }
    const sizes = await this.driverSize(spec);
    const sampled = sizes > FACET_SAMPLE;
    const fraction = sampled ? FACET_SAMPLE / sizes : 1;
    const sample = sampled ? docRange(fraction) : undefined;
    const facetIds = names.flatMap((n) => (byFacet.get(n) ?? []).map((t) => t.id));
    const { considered, counts } = await this.repository.facetCounts(spec, facetIds, sample, signal);
    const scale = sampled && considered > 0 ? sizes / considered : 1;
    return names.map((name) => {
      // A scaled estimate can overshoot what the pair counts allow; tags are not paired, so not capped.
      const cap = (t: TermInfo) => (bound && isPairedTerm(t.term) ? bound(t.id) : Infinity);
      const values = (byFacet.get(name) ?? []).map((t) => ({
        value: facetValue(name, t.term),
        count: Math.min(cap(t), Math.round((counts.get(t.id) ?? 0) * scale)),
      }));
      let errorMargin = 0;
      if (sampled && considered > 0) {
        for (const t of byFacet.get(name) ?? []) {
          const p = (counts.get(t.id) ?? 0) / considered;
          errorMargin = Math.max(errorMargin, Math.ceil(1.96 * sizes * Math.sqrt((p * (1 - p)) / considered)));
        }
      }
      return { name, values: sortValues(values), exact: !sampled, errorMargin };
    });
  }

  private async driverSize(spec: MatchSpec): Promise<number> {
    const rows = await this.dictionary.termsById(spec.driver);
    return rows.reduce((n, t) => n + t.trackCount, 0);
  }

  /** Facet terms per facet (the dictionary's, so new vocabulary terms appear after the next write). */
  private async facetTermList(): Promise<Map<FacetName, TermInfo[]>> {
    const byFacet = new Map<FacetName, TermInfo[]>();
    for (const [name, prefix] of Object.entries(FACET_PREFIX) as [FacetName, string][]) {
      byFacet.set(name, await this.dictionary.termsWithPrefix(prefix, 200));
    }
    return byFacet;
  }
}

function facetValue(name: FacetName, term: string): string {
  const value = term.slice(2);
  return name === 'bpm' ? `${value}-${Number(value) + BPM_BUCKET - 1}` : value;
}

function sortValues(values: { value: string; count: number }[]): { value: string; count: number }[] {
  return values.filter((v) => v.count > 0).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

/**
 * The doc range holding `fraction` of the doc space, always from its start: docs are scrambled
 * sequence numbers (see the integer-postings migration), so the tracks in it are a uniform sample
 * whatever the filter. The same range for every request keeps counts stable between refreshes and
 * keeps the sampled rows in cache, where a range drawn per request would read cold heap pages.
 */
function docRange(fraction: number): { from: number; to: number } {
  return { from: 0, to: Math.max(1, Math.floor(fraction * 2 ** 31)) - 1 };
}

import { Inject, Injectable } from '@nestjs/common';
import { TermCache } from '../cache/term-cache.js';
import type { TermCount, TermInfo } from '../catalogue/term-info.js';
import { SearchRepository } from './search.repository.js';

/**
 * The term dictionary as search reads it: each lookup through the in-memory TermCache under its own
 * key, so a typical page costs one database round trip.
 */
@Injectable()
export class TermDictionary {
  constructor(
    @Inject(SearchRepository) private readonly repository: SearchRepository,
    @Inject(TermCache) private readonly cache: TermCache,
  ) {}

  terms(terms: readonly string[]): Promise<TermInfo[]> {
    return this.cache.lookupTerms(terms, (missing) => this.repository.terms(missing));
  }

  termsById(ids: readonly number[]): Promise<readonly TermInfo[]> {
    return this.cache.lookup(`#${ids.join(',')}`, () => this.repository.termsById(ids));
  }

  async termsWithPrefix(prefix: string, limit: number): Promise<TermInfo[]> {
    return [...(await this.cache.lookup(`^${prefix}|${limit}`, () => this.repository.termsWithPrefix(prefix, limit)))];
  }

  /** Words spelled like `word` (fuzzy matches), for a word the dictionary lacks. */
  async similarWords(word: string, limit: number): Promise<TermInfo[]> {
    return [...(await this.cache.lookup(`~${word}`, () => this.repository.similarWords(word, limit)))];
  }

  pairedWith(termId: number): Promise<readonly TermCount[]> {
    return this.cache.lookup(`&${termId}`, () => this.repository.pairedWith(termId));
  }
}

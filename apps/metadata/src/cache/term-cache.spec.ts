import { describe, expect, it } from 'vitest';
import type { TermInfo } from '../catalogue/term-info.js';
import { TermCache } from './term-cache.js';

const info = (term: string, id = 1): TermInfo => ({ id, term, trackCount: 3 });

describe('TermCache', () => {
  it('loads every time while off, and serves from memory once on', async () => {
    const cache = new TermCache();
    let loads = 0;
    const load = async () => {
      loads++;
      return [info('w:moon')];
    };
    await cache.lookup('^w:mo|16', load);
    await cache.lookup('^w:mo|16', load);
    expect(loads).toBe(2);
    cache.setEnabled(true);
    expect(await cache.lookup('^w:mo|16', load)).toEqual([info('w:moon')]);
    expect(await cache.lookup('^w:mo|16', load)).toEqual([info('w:moon')]);
    expect(loads).toBe(3);
  });

  it('looks up only the missing terms, and remembers unknown ones as unknown', async () => {
    const cache = new TermCache();
    cache.setEnabled(true);
    const asked: string[][] = [];
    const load = async (missing: string[]) => {
      asked.push(missing);
      return missing.filter((t) => t !== 'w:nope').map((t, i) => info(t, i + 1));
    };
    expect((await cache.lookupTerms(['g:rock', 'w:nope'], load)).map((t) => t.term)).toEqual(['g:rock']);
    expect((await cache.lookupTerms(['g:rock', 'w:nope', 'm:calm'], load)).map((t) => t.term).sort()).toEqual(['g:rock', 'm:calm']);
    expect(asked).toEqual([['g:rock', 'w:nope'], ['m:calm']]);
  });

  it('does not keep a value loaded while the cache was cleared (a read racing a write)', async () => {
    const cache = new TermCache();
    cache.setEnabled(true);
    let release!: () => void;
    const slow = cache.lookup('=w:late', () => new Promise<TermInfo[]>((resolve) => (release = () => resolve([]))));
    cache.clear();
    release();
    await slow;
    let loads = 0;
    await cache.lookup('=w:late', async () => {
      loads++;
      return [info('w:late')];
    });
    expect(loads).toBe(1);
  });

  it('keeps at most its capacity, dropping the oldest', async () => {
    const cache = new TermCache(2);
    cache.setEnabled(true);
    for (const key of ['a', 'b', 'c']) await cache.lookup(key, async () => [info(key)]);
    expect(cache.size).toBe(2);
    let reloaded = false;
    await cache.lookup('a', async () => {
      reloaded = true;
      return [info('a')];
    });
    expect(reloaded).toBe(true);
  });
});

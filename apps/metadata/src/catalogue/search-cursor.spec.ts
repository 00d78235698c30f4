import { describe, expect, it } from 'vitest';
import { SearchCursorCodec, type CursorScope, type SearchCursor } from './search-cursor.js';

const KEY = 'a test key of at least thirty-two characters';
const codec = new SearchCursorCodec(KEY);
const SEARCH: CursorScope = { route: 'search' };
const ARTIST: CursorScope = { route: 'artist', artistId: '6f1c2a55-0b1e-4c8e-9f57-3a7d2b1c9e10' };
const cursor: SearchCursor = { order: 'popularity', tier: 1, after: { key: 42, doc: 123_456 }, partialStreak: 2 };

/** The cursor's JSON with `change` applied, carrying the original signature. */
function tampered(issued: string, change: Record<string, unknown>): string {
  const [payload, mac] = issued.split('.');
  const value = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')), ...change };
  return `${Buffer.from(JSON.stringify(value)).toString('base64url')}.${mac}`;
}

describe('SearchCursorCodec', () => {
  it('decodes what it encoded, in the scope it was issued for', () => {
    expect(codec.decode(codec.encode(cursor, SEARCH), SEARCH)).toEqual(cursor);
    const byDate: SearchCursor = { order: 'release_date', tier: 0, after: { key: -25_000, doc: 0 } };
    expect(codec.decode(codec.encode(byDate, ARTIST), ARTIST)).toEqual(byDate);
  });

  it('keeps cursors within the 200 characters the request schemas allow', () => {
    const longest: SearchCursor = { order: 'release_date', tier: 1, after: { key: -25_567, doc: 2 ** 31 - 1 }, partialStreak: 3 };
    expect(codec.encode(longest, ARTIST).length).toBeLessThanOrEqual(200);
  });

  it.each([
    ['a raised run of partial pages', { s: 3 }],
    ['an out-of-range popularity', { k: 100_000 }],
    ['a different doc', { d: 1 }],
  ])('refuses %s under the original signature', (_name, change) => {
    expect(() => codec.decode(tampered(codec.encode(cursor, SEARCH), change), SEARCH)).toThrow(
      expect.objectContaining({ reason: 'INVALID_CURSOR' }),
    );
  });

  it('refuses a cursor issued for another listing or another artist', () => {
    expect(() => codec.decode(codec.encode(cursor, SEARCH), ARTIST)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
    expect(() => codec.decode(codec.encode(cursor, ARTIST), SEARCH)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
    const other: CursorScope = { route: 'artist', artistId: '00000000-0000-4000-8000-000000000000' };
    expect(() => codec.decode(codec.encode(cursor, ARTIST), other)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
  });

  it('refuses a cursor signed with another key', () => {
    const other = new SearchCursorCodec('another key of at least thirty-two characters');
    expect(() => codec.decode(other.encode(cursor, SEARCH), SEARCH)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
  });

  it.each([
    '',
    '!!!',
    'e30',
    'e30.',
    '.AAAA',
    'e30.AAAAAAAAAAAAAAAAAAAAAA.x',
    Buffer.from('{"o":"p","t":0,"k":100000,"d":1}').toString('base64url'),
  ])('refuses the malformed cursor %j', (value) => {
    expect(() => codec.decode(value, SEARCH)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
  });

  it('bounds every field even under a valid signature (a leaked key must not reach SQL out of range)', () => {
    for (const after of [
      { key: 101, doc: 1 },
      { key: -1, doc: 1 },
      { key: 5, doc: -1 },
    ]) {
      const signed = codec.encode({ order: 'popularity', tier: 0, after }, SEARCH);
      expect(() => codec.decode(signed, SEARCH)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
    }
    const farFuture = codec.encode({ order: 'release_date', tier: 0, after: { key: 100_000, doc: 1 } }, SEARCH);
    expect(() => codec.decode(farFuture, SEARCH)).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR' }));
  });
});

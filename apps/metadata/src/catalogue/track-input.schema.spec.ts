import { describe, expect, it } from 'vitest';
import { syntheticCatalogue } from '../demo/synthetic-catalogue.js';
import { compiledTrackInputSchema, trackInputSchema } from './track-input.schema.js';

describe('compiledTrackInputSchema (the import validator)', () => {
  const valid = [...syntheticCatalogue(50, 3)] as unknown as Record<string, unknown>[];
  const broken: unknown[] = [
    null,
    'not an object',
    { ...valid[0], isrc: 'nope' },
    { ...valid[0], title: '   ' },
    { ...valid[0], extra: 1 },
    { ...valid[0], popularity: 101 },
    { ...valid[0], release_date: '2019-02-30' },
    { ...valid[0], release_date: '1899-12-31' },
    { ...valid[0], regions: ['se'] },
    { ...valid[0], attributes: { ...(valid[0]?.attributes as object), genres: ['polka-step'] } },
    { ...valid[0], attributes: { ...(valid[0]?.attributes as object), bpm: 12.5, mood: 'x' } },
    { ...valid[0], attributes: { ...(valid[0]?.attributes as object), tags: ['Road Trip'] } },
  ];

  it('gives the runtime schema’s output for valid rows, defaults included', () => {
    const sparse = { ...valid[1] };
    delete sparse.explicit;
    delete sparse.tier;
    for (const row of [...valid, sparse]) {
      const runtime = trackInputSchema.safeParse(row);
      const compiled = compiledTrackInputSchema.safeParse(row);
      expect(runtime.success).toBe(true);
      // As JSON too: key order feeds the content hash.
      expect(JSON.stringify(compiled.data)).toBe(JSON.stringify(runtime.data));
    }
  });

  it('refuses what the runtime schema refuses, with the same issues', () => {
    for (const row of broken) {
      const runtime = trackInputSchema.safeParse(row);
      const compiled = compiledTrackInputSchema.safeParse(row);
      expect(runtime.success, JSON.stringify(row)).toBe(false);
      expect(compiled.success).toBe(false);
      expect(compiled.error?.issues).toEqual(runtime.error?.issues);
    }
  });
});

import { MetadataReason } from '@overture/contracts';
import { madeByEachFactory } from '@overture/testing';
import { describe, expect, it } from 'vitest';
import * as errors from './metadata.errors.js';

describe('metadata errors', () => {
  const made = madeByEachFactory(errors);
  const contract = Object.values(MetadataReason);

  it('send only reasons listed in MetadataErrorReason', () => {
    for (const { name, error } of made) expect(contract, name).toContain(error.reason);
  });

  it('cover every reason MetadataErrorReason lists', () => {
    expect(new Set(made.map(({ error }) => error.reason))).toEqual(new Set(contract));
  });
});

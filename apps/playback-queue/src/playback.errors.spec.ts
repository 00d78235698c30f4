import { PlaybackReason } from '@overture/contracts';
import { madeByEachFactory } from '@overture/testing';
import { describe, expect, it } from 'vitest';
import * as errors from './playback.errors.js';

describe('playback errors', () => {
  const made = madeByEachFactory(errors);
  const contract = Object.values(PlaybackReason);

  it('send only reasons listed in PlaybackErrorReason', () => {
    for (const { name, error } of made) expect(contract, name).toContain(error.reason);
  });

  it('cover every reason PlaybackErrorReason lists', () => {
    expect(new Set(made.map(({ error }) => error.reason))).toEqual(new Set(contract));
  });
});

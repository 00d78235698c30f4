import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';

/** One record of an import file, before validation: its line number and the raw object (or why it could not be read). */
export interface SourceRecord {
  line: number;
  value?: unknown;
  error?: string;
}

const LIST = (v: string | undefined): string[] =>
  v
    ? v
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
const NUM = (v: string | undefined): number | string | undefined =>
  v === undefined || v === '' ? undefined : Number.isNaN(Number(v)) ? v : Number(v);
const OPT = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
const BOOL = (v: string | undefined): boolean | string | undefined =>
  v === undefined || v === ''
    ? undefined
    : ['true', '1', 'yes'].includes(v.toLowerCase())
      ? true
      : ['false', '0', 'no'].includes(v.toLowerCase())
        ? false
        : v;

function fromCsv(r: Record<string, string>): unknown {
  return {
    isrc: r.isrc,
    title: r.title,
    artist_name: r.artist_name,
    album_title: r.album_title,
    duration_ms: NUM(r.duration_ms),
    release_date: r.release_date,
    popularity: NUM(r.popularity),
    explicit: BOOL(r.explicit),
    regions: LIST(r.regions),
    tier: OPT(r.tier),
    audio_ref: OPT(r.audio_ref),
    attributes: {
      genres: LIST(r.genres),
      moods: LIST(r.moods),
      language: r.language,
      bpm: NUM(r.bpm),
      key: OPT(r.key),
      mode: OPT(r.mode),
      energy: NUM(r.energy),
      valence: NUM(r.valence),
      danceability: NUM(r.danceability),
      vocal_type: OPT(r.vocal_type),
      tags: LIST(r.tags),
    },
  };
}

/**
 * Reads a JSON Lines or CSV file (by extension) record by record, skipping lines up to `afterLine`
 * without parsing them. `onBytes` reports progress through the file.
 */
export async function* readSource(file: string, afterLine: number, onBytes: (n: number) => void): AsyncGenerator<SourceRecord> {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  const input = createReadStream(file).pipe(counter);
  if (file.toLowerCase().endsWith('.csv')) {
    const parser = input.pipe(parse({ columns: true, info: true, skip_empty_lines: true, relax_column_count: true, bom: true }));
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (item.info.lines <= afterLine) continue;
      yield { line: item.info.lines, value: fromCsv(item.record) };
    }
    return;
  }
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (line <= afterLine || text.trim() === '') continue;
    try {
      yield { line, value: JSON.parse(text) };
    } catch (error) {
      yield { line, error: `not JSON: ${(error as Error).message}` };
    }
  }
}

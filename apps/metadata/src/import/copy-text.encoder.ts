import type { TrackInput } from '../catalogue/track-input.schema.js';

/** The track columns the import writes, in COPY order (the bulk path puts id, doc and release_year first). */
export const STAGING_COLUMNS =
  'isrc, title, artist_name, album_title, duration_ms, release_date, popularity, explicit, attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash';

/**
 * COPY data written straight into 1 MiB buffers, handed to the COPY stream as they are. Building it
 * as strings cost more than everything else the import does in Node: appending made a rope of
 * thousands of small strings per chunk (garbage for the collector), and the stream then flattened
 * and UTF-8-encoded each one. Numbers are written as digits without a string.
 */
export class CopyData {
  private static readonly SIZE = 1 << 20;
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(CopyData.SIZE);
  private at = 0;

  /** Text (any Unicode), already escaped for COPY. */
  add(text: string): void {
    if (this.at + text.length * 3 > this.buffer.length) this.next(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /** Text known to be ASCII (digits, ISRCs, dates), byte by byte: cheaper than a call into the encoder. */
  addAscii(text: string): void {
    if (this.at + text.length > this.buffer.length) this.next(text.length);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** Bytes as they are: a short run made once and written many times (the tail all postings of a track share). */
  addBytes(bytes: Uint8Array): void {
    if (this.at + bytes.length > this.buffer.length) this.next(bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** A non-negative integer below 2^31. */
  addInt(n: number): void {
    if (this.at + 10 > this.buffer.length) this.next(10);
    let digits = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) digits++;
    let at = this.at + digits;
    this.at = at;
    do {
      this.buffer[--at] = 48 + (n % 10);
      n = (n / 10) | 0;
    } while (n > 0);
  }

  done(): Buffer[] {
    if (this.at) this.chunks.push(this.buffer.subarray(0, this.at));
    this.at = 0;
    return this.chunks;
  }

  private next(room: number): void {
    if (this.at) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(Math.max(CopyData.SIZE, room));
    this.at = 0;
  }
}

const ASCII_SCRATCH = Buffer.allocUnsafe(256);

/**
 * `text` (ASCII, under 256 characters) as bytes, in a scratch buffer valid until the next call. The
 * tail of a track's postings is the same for each of its ≈ 19 postings: it is encoded once and
 * copied, not written character by character each time (`addAscii`).
 */
export function asciiBytes(text: string): Uint8Array {
  return ASCII_SCRATCH.subarray(0, ASCII_SCRATCH.write(text, 0, 'latin1'));
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A track's values for the STAGING_COLUMNS, as one tab-separated COPY text fragment (no line end). */
export function trackColumns(t: TrackInput, ids: { artistId: string; albumId: string }, termIds: string, hash: string): string {
  return (
    `${t.isrc}\t${copyText(t.title)}\t${copyText(t.artist_name)}\t${copyText(t.album_title)}\t${t.duration_ms}\t${t.release_date}\t` +
    `${t.popularity}\t${t.explicit ? 't' : 'f'}\t${copyText(JSON.stringify(t.attributes))}\t${ids.artistId}\t${ids.albumId}\t` +
    `{${t.regions.join(',')}}\t${t.tier}\t${copyText(t.audio_ref)}\t{${termIds}}\t${hash}`
  );
}

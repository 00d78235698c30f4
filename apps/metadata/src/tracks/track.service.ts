import { Inject, Injectable } from '@nestjs/common';
import { TrackCache } from '../cache/track-cache.js';
import { SearchCursorCodec } from '../catalogue/search-cursor.js';
import { albumNotFound, artistNotFound, invalidCursor, trackNotFound } from '../metadata.errors.js';
import { TrackRepository } from './track.repository.js';
import { DEFAULT_PAGE } from './track.schemas.js';
import type { Album, Artist, Track } from './track.js';

const ARTIST_ALBUMS = 50;
const ALBUM_TRACKS = 200;

/** Reads: one track, batches (served from the hot-track cache when possible), artist and album pages. */
@Injectable()
export class TrackService {
  constructor(
    @Inject(TrackRepository) private readonly tracks: TrackRepository,
    @Inject(TrackCache) private readonly cache: TrackCache,
    @Inject(SearchCursorCodec) private readonly cursors: SearchCursorCodec,
  ) {}

  async getTrack(id: string): Promise<Track> {
    const [track] = (await this.batchGet([id])).tracks;
    if (!track) throw trackNotFound(id);
    return track;
  }

  /** Tracks in the order asked (duplicates kept), and the ids the catalogue does not have. */
  async batchGet(ids: readonly string[]): Promise<{ tracks: Track[]; missingIds: string[] }> {
    const found = new Map<string, Track>();
    const toRead: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.cache.get(id);
      if (cached) found.set(id, cached);
      else toRead.push(id);
    }
    if (toRead.length) {
      const generation = this.cache.currentGeneration();
      const read = await this.tracks.findByIds(toRead);
      this.cache.store(
        read.map((t) => [t.id, t] as const),
        generation,
      );
      for (const t of read) found.set(t.id, t);
    }
    const tracks: Track[] = [];
    const missingIds: string[] = [];
    for (const id of ids) {
      const track = found.get(id);
      if (track) tracks.push(track);
      else if (!missingIds.includes(id)) missingIds.push(id);
    }
    return { tracks, missingIds };
  }

  /** @param signal aborts when the caller has gone: the statement running then is cancelled. */
  async artistPage(
    artistId: string,
    limit: number,
    cursor: string,
    signal?: AbortSignal,
  ): Promise<{ artist: Artist; albums: Album[]; tracks: Track[]; nextCursor: string }> {
    const scope = { route: 'artist', artistId } as const;
    const position = cursor ? this.cursors.decode(cursor, scope) : undefined;
    if (position && position.order !== 'popularity') throw invalidCursor();
    const artist = await this.tracks.findArtist(artistId, signal);
    if (!artist) throw artistNotFound(artistId);
    const pageSize = limit || DEFAULT_PAGE;
    const rows = await this.tracks.artistTracks(
      artistId,
      pageSize + 1,
      position && { popularity: position.after.key, doc: position.after.doc },
      signal,
    );
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    const nextCursor =
      rows.length > pageSize && last
        ? this.cursors.encode({ order: 'popularity', tier: 0, after: { key: last.track.popularity, doc: last.doc } }, scope)
        : '';
    const tracks = page.map((r) => r.track);
    return { artist, albums: position ? [] : await this.tracks.artistAlbums(artistId, ARTIST_ALBUMS, signal), tracks, nextCursor };
  }

  async albumPage(albumId: string, signal?: AbortSignal): Promise<{ album: Album; tracks: Track[] }> {
    const album = await this.tracks.findAlbum(albumId, signal);
    if (!album) throw albumNotFound(albumId);
    return { album, tracks: await this.tracks.albumTracks(albumId, ALBUM_TRACKS, signal) };
  }
}

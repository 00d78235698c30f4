import type { metadataV1 } from '@overture/contracts';
import type {
  AlbumPageView,
  AlbumView,
  ArtistView,
  AttributesView,
  SearchQuery,
  SearchView,
  TrackBody,
  TrackView,
} from '@overture/gateway-contract';
import { required } from '../downstream/required.js';

const orUndefined = (value: string | undefined): string | undefined => (value ? value : undefined);

export function toTrackView(track: metadataV1.Track): TrackView {
  const a = track.attributes;
  const d = track.details;
  return {
    id: track.trackId,
    title: track.title,
    artist_name: track.artistName,
    album_title: track.albumTitle,
    duration_ms: track.durationMs,
    isrc: track.isrc,
    release_year: track.releaseYear,
    release_date: orUndefined(d?.releaseDate),
    popularity: track.popularity,
    explicit: track.explicit,
    artist_id: orUndefined(d?.artistId),
    album_id: orUndefined(d?.albumId),
    regions: d?.regions,
    tier: d?.tier === 'free' || d?.tier === 'premium' ? d.tier : undefined,
    version: d?.version || undefined,
    attributes: {
      genres: a?.genres ?? [],
      moods: a?.moods ?? [],
      language: a?.language ?? '',
      bpm: a?.bpm ?? 0,
      energy: a?.energy ?? 0,
      valence: a?.valence ?? 0,
      danceability: a?.danceability ?? 0,
      tags: a?.tags ?? [],
      key: orUndefined(a?.extra?.key),
      mode: orUndefined(a?.extra?.mode),
      vocal_type: orUndefined(a?.extra?.vocalType),
    },
  };
}

export function toAlbumView(album: metadataV1.Album): AlbumView {
  return {
    id: album.albumId,
    title: album.title,
    artist_id: album.artistId,
    artist_name: album.artistName,
    release_date: album.releaseDate || null,
  };
}

export function toArtistView(page: metadataV1.GetArtistResponse): ArtistView {
  const artist = required(page.artist, 'metadata', 'the artist');
  return {
    id: artist.artistId,
    name: artist.name,
    track_count: artist.trackCount,
    albums: page.albums.map(toAlbumView),
    tracks: page.tracks.map(toTrackView),
    next_cursor: page.nextCursor || null,
  };
}

export function toAlbumPageView(page: metadataV1.GetAlbumResponse): AlbumPageView {
  return { album: toAlbumView(required(page.album, 'metadata', 'the album')), tracks: page.tracks.map(toTrackView) };
}

export function toAttributesView(response: metadataV1.GetAttributesResponse): AttributesView {
  return { attributes: response.attributes.map((a) => ({ ...a, type: a.type as AttributesView['attributes'][number]['type'] })) };
}

export function toTrackInput(body: TrackBody): metadataV1.TrackInput {
  const a = body.attributes;
  return {
    title: body.title,
    artistName: body.artist_name,
    albumTitle: body.album_title,
    durationMs: body.duration_ms,
    isrc: body.isrc,
    releaseDate: body.release_date,
    popularity: body.popularity,
    explicit: body.explicit,
    regions: body.regions,
    tier: body.tier,
    audioRef: body.audio_ref,
    attributes: {
      genres: a.genres,
      moods: a.moods,
      language: a.language,
      bpm: a.bpm,
      energy: a.energy,
      valence: a.valence,
      danceability: a.danceability,
      tags: a.tags,
      extra: { key: a.key, mode: a.mode, vocalType: a.vocal_type },
    },
  };
}

export function toSearchRequest(query: SearchQuery): metadataV1.SearchTracksRequest {
  return {
    query: query.q,
    genre: query.genre ?? '',
    mood: query.mood ?? '',
    language: query.language ?? '',
    minBpm: query.min_bpm,
    maxBpm: query.max_bpm,
    limit: query.limit,
    cursor: query.cursor ?? '',
    options: {
      genres: query.genres ?? [],
      moods: query.moods ?? [],
      tags: query.tags ?? [],
      minYear: query.min_year,
      maxYear: query.max_year,
      minEnergy: query.min_energy,
      maxEnergy: query.max_energy,
      explicit: query.explicit,
      sort: query.sort ?? '',
      facets: query.facets ?? [],
      key: query.key ?? '',
      mode: query.mode ?? '',
      vocalType: query.vocal_type ?? '',
    },
  };
}

export function toSearchView(page: metadataV1.SearchTracksResponse): SearchView {
  return {
    tracks: page.tracks.map(toTrackView),
    next_cursor: page.nextCursor || null,
    partial: page.info?.partial ?? false,
    facets: (page.info?.facets ?? []).map((f) => ({ name: f.name, values: f.values, exact: f.exact, error_margin: f.errorMargin })),
  };
}

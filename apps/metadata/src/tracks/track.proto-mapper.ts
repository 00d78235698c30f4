import type { metadataV1 } from '@overture/contracts';
import type { Album, Track } from './track.js';

/** The proto's input (camelCase, '' for unset) in the shape the track input schema validates. */
export function fromProtoInput(input: metadataV1.TrackInput | undefined): unknown {
  if (!input) return undefined;
  const a = input.attributes;
  const unset = (v: string | undefined) => (v ? v : undefined);
  return {
    title: input.title,
    artist_name: input.artistName,
    album_title: input.albumTitle,
    duration_ms: input.durationMs,
    isrc: input.isrc,
    release_date: input.releaseDate,
    popularity: input.popularity,
    explicit: input.explicit,
    regions: input.regions,
    tier: unset(input.tier),
    audio_ref: input.audioRef,
    attributes: a && {
      genres: a.genres,
      moods: a.moods,
      language: a.language,
      bpm: a.bpm,
      energy: a.energy,
      valence: a.valence,
      danceability: a.danceability,
      tags: a.tags,
      key: unset(a.extra?.key),
      mode: unset(a.extra?.mode),
      vocal_type: unset(a.extra?.vocalType),
    },
  };
}

export function albumToProto(album: Album): metadataV1.Album {
  return { albumId: album.id, title: album.title, artistId: album.artistId, artistName: album.artistName, releaseDate: album.releaseDate };
}

export function toProto(track: Track): metadataV1.Track {
  const { key, mode, vocalType, ...attributes } = track.attributes;
  return {
    trackId: track.id,
    title: track.title,
    artistName: track.artistName,
    albumTitle: track.albumTitle,
    durationMs: track.durationMs,
    isrc: track.isrc,
    releaseYear: track.releaseYear,
    popularity: track.popularity,
    explicit: track.explicit,
    attributes: { ...attributes, extra: { key, mode, vocalType } },
    details: {
      releaseDate: track.releaseDate,
      artistId: track.artistId,
      albumId: track.albumId,
      regions: track.regions,
      tier: track.tier,
      audioRef: track.audioRef,
      version: track.version,
    },
  };
}

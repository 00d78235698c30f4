import { Server, status, type handleUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { METADATA_V1, metadataV1, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import { testTransport } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

const definition = loadSync(path.join(PROTO_ROOT, METADATA_V1.file), PROTO_LOADER_OPTIONS);
const serviceDefinition = definition[`${METADATA_V1.package}.MetadataService`] as ServiceDefinition;

export interface CatalogueTrackOptions {
  genre: string;
  mood?: string;
  language?: string;
  popularity?: number;
}

/**
 * A stand-in for the metadata service speaking the real contract over real gRPC (apps may not
 * import each other), serving canned tracks. It can be stopped and started again on the same port.
 */
export class FakeMetadataServer {
  readonly tracks = new Map<string, metadataV1.Track>();
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Adds a catalogue track and returns its id. */
  add(options: CatalogueTrackOptions): string {
    const trackId = randomUUID();
    this.tracks.set(trackId, {
      trackId,
      title: `${options.genre} ${this.tracks.size}`,
      artistName: 'Test Artist',
      albumTitle: 'Test Album',
      durationMs: 200_000,
      isrc: `TEST${String(this.tracks.size).padStart(8, '0')}`,
      releaseYear: 2020,
      popularity: options.popularity ?? 50,
      explicit: false,
      attributes: {
        genres: [options.genre],
        moods: [options.mood ?? 'energetic'],
        language: options.language ?? 'en',
        bpm: 120,
        energy: 0.5,
        valence: 0.5,
        danceability: 0.5,
        tags: [],
      },
    });
    return trackId;
  }

  async start(): Promise<void> {
    const server = new Server();
    const batchGetTracks: handleUnaryCall<metadataV1.BatchGetTracksRequest, metadataV1.BatchGetTracksResponse> = (call, callback) => {
      const ids = call.request.trackIds;
      if (ids.length === 0 || ids.length > 100) {
        callback({ code: status.INVALID_ARGUMENT, details: 'trackIds: 1..100 ids' });
        return;
      }
      callback(null, {
        tracks: ids.flatMap((id) => this.tracks.get(id) ?? []),
        missingTrackIds: ids.filter((id) => !this.tracks.has(id)),
      });
    };
    const searchTracks: handleUnaryCall<metadataV1.SearchTracksRequest, metadataV1.SearchTracksResponse> = (call, callback) => {
      const { genre, limit } = call.request;
      if (limit < 0 || limit > 50) {
        callback({ code: status.INVALID_ARGUMENT, details: 'limit: at most 50' });
        return;
      }
      const tracks = [...this.tracks.values()]
        .filter((t) => !genre || t.attributes?.genres.includes(genre))
        .sort((a, b) => b.popularity - a.popularity || a.trackId.localeCompare(b.trackId))
        .slice(0, limit || 20);
      callback(null, { tracks, nextCursor: '' });
    };
    const getTrack: handleUnaryCall<metadataV1.GetTrackRequest, metadataV1.GetTrackResponse> = (call, callback) => {
      const track = this.tracks.get(call.request.trackId);
      if (track) callback(null, { track });
      else callback({ code: status.NOT_FOUND, details: 'no such track' });
    };
    server.addService(serviceDefinition, { getTrack, batchGetTracks, searchTracks });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, testTransport('metadata').serverCredentials(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
  }

  /** Stops at once, dropping connections, like a crashed service. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

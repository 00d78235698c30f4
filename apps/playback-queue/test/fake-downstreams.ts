import { Server, status, type ServiceDefinition, type UntypedServiceImplementation, type handleUnaryCall } from '@grpc/grpc-js';
import { type ServiceIdentity } from '@overture/grpc';
import { loadSync } from '@grpc/proto-loader';
import {
  METADATA_V1,
  metadataV1,
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
  RECOMMENDATION_V1,
  recommendationV1,
  type ContractRef,
} from '@overture/contracts';
import { freePort, testTransport } from '@overture/testing';
import path from 'node:path';

// Test doubles of playback-queue's two downstreams: real gRPC servers of the real contracts (loaded
// from the .proto files), answering from memory. The system e2e suite runs the real apps instead.

function serviceDefinition(contract: ContractRef, serviceName: string): ServiceDefinition {
  const definition = loadSync(path.join(PROTO_ROOT, contract.file), PROTO_LOADER_OPTIONS)[`${contract.package}.${serviceName}`];
  if (!definition || 'format' in definition) throw new Error(`${contract.package}.${serviceName} is not a service`);
  return definition;
}

const unavailable = { code: status.UNAVAILABLE, details: 'the fake is answering UNAVAILABLE' };

/** A gRPC server on a fixed loopback address that can be stopped and started again there. */
abstract class FakeServer {
  private server: Server | undefined;

  protected constructor(readonly address: string) {}

  protected abstract definition(): ServiceDefinition;
  /** The service this stands in for: it presents that service's certificate. */
  protected abstract identity(): ServiceIdentity;
  protected abstract implementation(): UntypedServiceImplementation;

  async start(): Promise<void> {
    const server = new Server();
    server.addService(this.definition(), this.implementation());
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(this.address, testTransport(this.identity()).serverCredentials(), (error) => (error ? reject(error) : resolve())),
    );
    this.server = server;
  }

  /** Closes the port at once, as a crashed or unreachable service would. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

/** MetadataService: BatchGetTracks from a fixed catalogue of track id → duration. */
export class FakeMetadata extends FakeServer {
  /** When true, every call fails with UNAVAILABLE. */
  unavailable = false;

  private constructor(
    address: string,
    private readonly catalogue: ReadonlyMap<string, number>,
  ) {
    super(address);
  }

  static async start(catalogue: ReadonlyMap<string, number>): Promise<FakeMetadata> {
    const fake = new FakeMetadata(`127.0.0.1:${await freePort()}`, catalogue);
    await fake.start();
    return fake;
  }

  protected identity(): ServiceIdentity {
    return 'metadata';
  }

  protected definition(): ServiceDefinition {
    return serviceDefinition(METADATA_V1, 'MetadataService');
  }

  protected implementation(): UntypedServiceImplementation {
    const batchGetTracks: handleUnaryCall<metadataV1.BatchGetTracksRequest, metadataV1.BatchGetTracksResponse> = (call, callback) => {
      if (this.unavailable) return callback(unavailable);
      const ids = call.request.trackIds;
      callback(null, {
        tracks: ids.filter((id) => this.catalogue.has(id)).map((id) => track(id, this.catalogue.get(id)!)),
        missingTrackIds: ids.filter((id) => !this.catalogue.has(id)),
      });
    };
    return { batchGetTracks };
  }
}

function track(trackId: string, durationMs: number): metadataV1.Track {
  return {
    trackId,
    title: `Track ${trackId.slice(0, 8)}`,
    artistName: 'Fake Artist',
    albumTitle: 'Fake Album',
    durationMs,
    isrc: `XX${trackId.slice(0, 10)}`,
    releaseYear: 2020,
    popularity: 50,
    explicit: false,
  };
}

/** RecommendationService: RecordPlayEvents keeps every event it receives, in order. */
export class FakeRecommendation extends FakeServer {
  readonly received: recommendationV1.PlayEvent[] = [];
  /** RecordPlayEvents calls that reached the server, answered or not. */
  calls = 0;
  /** When true, every call fails with UNAVAILABLE (and records nothing). */
  unavailable = false;
  /** Calls carrying an event for this track fail with INVALID_ARGUMENT (and record nothing), as a malformed event would. */
  refuseTrack: string | undefined;

  static async start(): Promise<FakeRecommendation> {
    const fake = new FakeRecommendation(`127.0.0.1:${await freePort()}`);
    await fake.start();
    return fake;
  }

  protected identity(): ServiceIdentity {
    return 'recommendation';
  }

  protected definition(): ServiceDefinition {
    return serviceDefinition(RECOMMENDATION_V1, 'RecommendationService');
  }

  protected implementation(): UntypedServiceImplementation {
    const recordPlayEvents: handleUnaryCall<recommendationV1.RecordPlayEventsRequest, recommendationV1.RecordPlayEventsResponse> = (
      call,
      callback,
    ) => {
      this.calls++;
      if (this.unavailable) return callback(unavailable);
      const refused = call.request.events.findIndex((event) => event.trackId === this.refuseTrack);
      if (refused >= 0) return callback({ code: status.INVALID_ARGUMENT, details: `events[${refused}].trackId: refused by the test` });
      this.received.push(...call.request.events);
      callback(null, { accepted: call.request.events.length, duplicates: 0 });
    };
    return { recordPlayEvents };
  }

  eventsOf(userId: string): recommendationV1.PlayEvent[] {
    return this.received.filter((event) => event.userId === userId);
  }
}

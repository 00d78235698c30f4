import { status } from '@grpc/grpc-js';
import type { metadataV1 } from '@overture/contracts';
import { of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CallContext } from './call-context.js';
import type { Downstream } from './downstream.js';
import { METADATA_BATCHES_IN_FLIGHT, MetadataClient } from './metadata.client.js';

type BatchGet = (request: metadataV1.BatchGetTracksRequest) => Promise<metadataV1.BatchGetTracksResponse>;

/** A metadata downstream whose BatchGetTracks answers through `answer`, counting calls in flight. */
function client(answer: BatchGet) {
  const seen = { calls: 0, inFlight: 0, maxInFlight: 0 };
  const metadata = {
    read: async <R>(_ctx: CallContext, fn: (c: metadataV1.MetadataServiceClient) => Observable<R>): Promise<R> => {
      seen.calls++;
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      try {
        let request!: metadataV1.BatchGetTracksRequest;
        const service = { batchGetTracks: (r: metadataV1.BatchGetTracksRequest) => ((request = r), of(undefined)) };
        fn(service as unknown as metadataV1.MetadataServiceClient);
        return (await answer(request)) as R;
      } finally {
        seen.inFlight--;
      }
    },
  } as unknown as Downstream<metadataV1.MetadataServiceClient>;
  return { metadata: new MetadataClient(metadata, {} as Downstream<metadataV1.CatalogueServiceClient>), seen };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const found = async (request: metadataV1.BatchGetTracksRequest): Promise<metadataV1.BatchGetTracksResponse> => {
  await tick();
  const known = request.trackIds.filter((id) => !id.endsWith('7'));
  return {
    tracks: known.map((trackId) => ({ trackId }) as metadataV1.Track),
    missingTrackIds: request.trackIds.filter((id) => id.endsWith('7')),
  };
};

describe('MetadataClient.batchGetTracks', () => {
  it(`resolves a 10 000-track queue in batches of 100, at most ${METADATA_BATCHES_IN_FLIGHT} in flight, in the order asked`, async () => {
    const { metadata, seen } = client(found);
    const asked = ids(10_000);
    const { tracks, missingTrackIds } = await metadata.batchGetTracks({ requestId: 'r' }, asked);
    expect(seen.calls).toBe(100);
    expect(seen.maxInFlight).toBe(METADATA_BATCHES_IN_FLIGHT);
    expect(tracks.map((t) => t.trackId)).toEqual(asked.filter((id) => !id.endsWith('7')));
    expect(missingTrackIds).toEqual(asked.filter((id) => id.endsWith('7')));
  });

  it('starts no further batch once one has failed', async () => {
    let answered = 0;
    const { metadata, seen } = client(async (request) => {
      await tick();
      if (++answered === 2) throw Object.assign(new Error('unavailable'), { code: status.UNAVAILABLE });
      return found(request);
    });
    await expect(metadata.batchGetTracks({ requestId: 'r' }, ids(10_000))).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await tick();
    expect(seen.calls).toBeLessThanOrEqual(METADATA_BATCHES_IN_FLIGHT + 1);
  });

  it('makes no call for an empty queue', async () => {
    const { metadata, seen } = client(found);
    expect(await metadata.batchGetTracks({ requestId: 'r' }, [])).toEqual({ tracks: [], missingTrackIds: [] });
    expect(seen.calls).toBe(0);
  });
});

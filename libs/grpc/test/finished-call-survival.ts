// Run by release-finished-calls.spec.ts in a process of its own:
//   node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 finished-call-survival.ts released|plain
// Serves the real MetadataService contract (SearchTracks answers 20 tracks) and calls it with a
// grpc-js client; when asked, after making (and closing) a `createGrpcClient` client first, which
// must install `releaseFinishedCalls`. After a full GC it makes 200 calls
// (the young generation is large enough that no collection runs meanwhile), then forces one
// scavenge and prints how many of the 200 decoded responses it freed, and how many a full GC then
// freed (all 200, unless something still uses them).
import { credentials, loadPackageDefinition, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { METADATA_V1, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// Plain node runs this file, so it takes the built package (dist), as the apps do, not ../src.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createGrpcClient, releaseFinishedCalls, transportSecurity } from '@overture/grpc';

// Plaintext like the bare server below: this measures what calls leave alive, not TLS.
const PLAINTEXT_SETTINGS = { GRPC_TLS_DIR: 'unused', GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: true };

type Callback = (error: Error | null, response?: { tracks: unknown[] }) => void;
interface SearchClient {
  searchTracks(request: object, callback: Callback): void;
  close(): void;
}
type Package = {
  overture: { metadata: { v1: { MetadataService: { service: never } & (new (url: string, creds: unknown) => SearchClient) } } };
};

const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const definition = loadPackageDefinition(loadSync(path.join(PROTO_ROOT, METADATA_V1.file), PROTO_LOADER_OPTIONS)) as unknown as Package;
const { MetadataService } = definition.overture.metadata.v1;
const tracks = Array.from({ length: 20 }, (_, i) => ({
  trackId: `t${i}`,
  title: `Track ${i}`,
  artistName: 'Artist',
  albumTitle: 'Album',
  durationMs: 200_000,
  isrc: `XX00000000${i}`,
}));

const server = new Server();
server.addService(MetadataService.service, {
  searchTracks: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, { tracks, nextCursor: '' }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);
const url = `127.0.0.1:${port}`;
if (process.argv[2] === 'released') {
  createGrpcClient({
    contract: METADATA_V1,
    serviceName: 'MetadataService',
    url,
    transport: transportSecurity(PLAINTEXT_SETTINGS, 'api-gateway'),
  }).close();
  // Already installed by the client above; this reports whether its grpc-js cut applied.
  if (!releaseFinishedCalls()) throw new Error('releaseFinishedCalls could not install its grpc-js cut');
}
const client = new MetadataService(url, credentials.createInsecure());

let tracking = false;
let freed = 0;
const registry = new FinalizationRegistry<number>(() => (freed += 1));
const search = (): Promise<void> =>
  new Promise((resolve, reject) =>
    client.searchTracks({ query: 'x', limit: 20 }, (error, response) => {
      if (error || !response || response.tracks.length !== 20) return reject(error ?? new Error('bad response'));
      if (tracking) registry.register(response, 1);
      resolve();
    }),
  );
const calls = async (count: number): Promise<void> => {
  for (let i = 0; i < count; i++) await search();
};

await Promise.all(Array.from({ length: 4 }, () => calls(100)));
await sleep(50);
gc();
await sleep(50);
tracking = true;
await Promise.all(Array.from({ length: 4 }, () => calls(50)));
tracking = false;
await sleep(50);
gc({ type: 'minor' });
await sleep(100);
const freedByScavenge = freed;
gc();
await sleep(100);
console.log(JSON.stringify({ calls: 200, freedByScavenge, freedByFullGc: freed - freedByScavenge }));
client.close();
server.forceShutdown();

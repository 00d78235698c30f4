// One client of tools/grpc-gc/scavenges.ts: node scavenges-client.ts <host:port> released|plain <calls> <concurrency>
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { METADATA_V1, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import { releaseFinishedCalls } from '@overture/grpc';
import path from 'node:path';
import { PerformanceObserver, performance, constants } from 'node:perf_hooks';

const [url = '', mode, callsArg = '30000', concurrencyArg = '4'] = process.argv.slice(2);
if (mode === 'released' && !releaseFinishedCalls()) throw new Error('releaseFinishedCalls could not install its grpc-js cut');

type Callback = (error: Error | null, response?: { tracks: unknown[] }) => void;
type ClientConstructor = new (url: string, creds: unknown) => { searchTracks(request: object, callback: Callback): void; close(): void };
const definition = loadPackageDefinition(loadSync(path.join(PROTO_ROOT, METADATA_V1.file), PROTO_LOADER_OPTIONS)) as unknown as {
  overture: { metadata: { v1: { MetadataService: ClientConstructor } } };
};
const client = new definition.overture.metadata.v1.MetadataService(url, credentials.createInsecure());
const search = (): Promise<void> =>
  new Promise((resolve, reject) =>
    client.searchTracks({ query: 'night', limit: 20 }, (error, response) =>
      error || response?.tracks.length !== 20 ? reject(error ?? new Error('bad response')) : resolve(),
    ),
  );
const run = (calls: number): Promise<void[]> =>
  Promise.all(
    Array.from({ length: Number(concurrencyArg) }, async () => {
      for (let i = 0; i < calls / Number(concurrencyArg); i++) await search();
    }),
  );

await run(2_000);
const pauses: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.push(entry.duration);
  }
});
observer.observe({ entryTypes: ['gc'] });
const cpuBefore = process.cpuUsage();
const start = performance.now();
await run(Number(callsArg));
const elapsed = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
client.close();
const total = pauses.reduce((sum, pause) => sum + pause, 0);
const round1 = (x: number): number => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    scavenges: pauses.length,
    meanMs: round1(total / Math.max(1, pauses.length)),
    longestMs: round1(Math.max(0, ...pauses)),
    totalMs: Math.round(total),
    callsPerSecond: Math.round((Number(callsArg) / elapsed) * 1000),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  }),
);
